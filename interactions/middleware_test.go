package interactions_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ipcord/ipcord/discordtest"
	"github.com/ipcord/ipcord/interactions"
	"github.com/ipcord/ipcord/internal/leaktest"
)

// TestVerifyMiddleware: the middleware answers every bad request exactly
// as an Endpoint does, answers PING, and hands other verified requests to
// the next handler with the body intact.
func TestVerifyMiddleware(t *testing.T) {
	leaktest.Check(t)
	signer, _ := discordtest.NewSigner()
	cfg := interactions.Config{PublicKey: signer.PublicKeyHex(), MaxBodyBytes: 4096}
	var got []byte
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, _ = io.ReadAll(r.Body)
		w.WriteHeader(299)
	})
	mw, err := interactions.Verify(cfg, next)
	if err != nil {
		t.Fatal(err)
	}
	ep, err := interactions.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer ep.Shutdown(context.Background())
	if _, err := interactions.Verify(interactions.Config{}, next); err == nil {
		t.Fatal("Verify without a key")
	}

	cmd := []byte(command("ping", ""))
	sign := func(body []byte, ts int64) (string, string) {
		s := strconv.FormatInt(ts, 10)
		return signer.Sign(s, body), s
	}
	now := time.Now().Unix()
	req := func(method string, body []byte, sig, ts, ct string) *http.Request {
		r := httptest.NewRequest(method, "/interactions", bytes.NewReader(body))
		r.Header.Set("Content-Type", ct)
		r.Header.Set(interactions.HeaderSignature, sig)
		r.Header.Set(interactions.HeaderTimestamp, ts)
		return r
	}
	sig, ts := sign(cmd, now)
	badSig := strings.Repeat("0", 128)
	staleSig, staleTs := sign(cmd, now-600)
	big := []byte(`{"type":2,"pad":"` + strings.Repeat("x", 5000) + `"}`)
	bigSig, bigTs := sign(big, now)
	cases := []struct {
		name string
		r    func() *http.Request
		want int
	}{
		{"wrong method", func() *http.Request { return req("GET", nil, sig, ts, "application/json") }, 405},
		{"media type", func() *http.Request { return req("POST", cmd, sig, ts, "text/plain") }, 415},
		{"bad signature", func() *http.Request { return req("POST", cmd, badSig, ts, "application/json") }, 401},
		{"no headers", func() *http.Request { return req("POST", cmd, "", "", "application/json") }, 401},
		{"stale timestamp", func() *http.Request { return req("POST", cmd, staleSig, staleTs, "application/json") }, 401},
		{"too large", func() *http.Request { return req("POST", big, bigSig, bigTs, "application/json") }, 413},
		{"body altered", func() *http.Request {
			return req("POST", append(cmd[:len(cmd):len(cmd)], ' '), sig, ts, "application/json")
		}, 401},
	}
	for _, c := range cases {
		mwRec, epRec := httptest.NewRecorder(), httptest.NewRecorder()
		mw.ServeHTTP(mwRec, c.r())
		ep.ServeHTTP(epRec, c.r())
		if mwRec.Code != c.want || mwRec.Code != epRec.Code || mwRec.Body.String() != epRec.Body.String() ||
			mwRec.Header().Get("Content-Type") != epRec.Header().Get("Content-Type") {
			t.Errorf("%s: middleware %d %q, endpoint %d %q, want %d", c.name, mwRec.Code, mwRec.Body, epRec.Code, epRec.Body, c.want)
		}
	}
	if got != nil {
		t.Fatal("a refused request reached the next handler")
	}

	ping := []byte(`{"id":"1","application_id":"2","type":1,"token":"t","version":1}`)
	psig, pts := sign(ping, now)
	rec := httptest.NewRecorder()
	mw.ServeHTTP(rec, req("POST", ping, psig, pts, "application/json"))
	if rec.Code != 200 || rec.Body.String() != `{"type":1}` || rec.Header().Get("Content-Type") != "application/json" || got != nil {
		t.Fatalf("PING: %d %q %q", rec.Code, rec.Body, rec.Header().Get("Content-Type"))
	}
	rec = httptest.NewRecorder()
	mw.ServeHTTP(rec, req("POST", cmd, sig, ts, "application/json"))
	if rec.Code != 299 || !bytes.Equal(got, cmd) {
		t.Fatalf("verified command: %d, next got %q", rec.Code, got)
	}
}
