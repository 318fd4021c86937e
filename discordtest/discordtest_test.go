package discordtest_test

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ipcord/ipcord/discord"
	"github.com/ipcord/ipcord/discordtest"
	"github.com/ipcord/ipcord/internal/leaktest"
)

func TestSignerSignsLikeDiscord(t *testing.T) {
	s, err := discordtest.NewSigner()
	if err != nil {
		t.Fatal(err)
	}
	s.Now = func() time.Time { return time.Unix(1700000000, 0) }
	body := []byte(`{"type":1}`)
	sig, ts := s.Headers(body)
	if ts != "1700000000" || len(sig) != 128 || len(s.PublicKeyHex()) != 64 {
		t.Fatalf("sig %q ts %q", sig, ts)
	}
	raw, _ := hex.DecodeString(sig)
	if !ed25519.Verify(s.PublicKey(), append([]byte(ts), body...), raw) {
		t.Fatal("signature does not verify over timestamp+body")
	}
	if ed25519.Verify(s.PublicKey(), body, raw) {
		t.Fatal("signature verifies over the body alone")
	}
	req, err := s.NewRequest(t.Context(), "http://127.0.0.1/x", body)
	if err != nil || req.Header.Get(discordtest.HeaderSignature) != sig || req.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("request headers %v %v", req.Header, err)
	}
}

func TestSignerFromKey(t *testing.T) {
	seed := make([]byte, 32)
	seed[0] = 7
	a, err := discordtest.NewSignerFromKey(seed)
	if err != nil {
		t.Fatal(err)
	}
	full := append(append([]byte(nil), seed...), a.PublicKey()...)
	b, err := discordtest.NewSignerFromKey(full)
	if err != nil || b.PublicKeyHex() != a.PublicKeyHex() {
		t.Fatalf("seed‖pub: %v", err)
	}
	full[40] ^= 1
	if _, err := discordtest.NewSignerFromKey(full); !errors.Is(err, discordtest.ErrBadKey) {
		t.Fatalf("mismatched public half: %v", err)
	}
	if _, err := discordtest.NewSignerFromKey(seed[:5]); !errors.Is(err, discordtest.ErrBadKey) {
		t.Fatalf("short key: %v", err)
	}
}

func TestServerWaitAndSessionStarts(t *testing.T) {
	leaktest.Check(t)
	now := time.Unix(1700000000, 0)
	srv, err := discordtest.NewServer(&discordtest.ServerOptions{Now: func() time.Time { return now }, GatewayBot: discord.GatewayBot{
		URL: "ws://127.0.0.1:1", Shards: 2, SessionStartLimit: discord.SessionStartLimit{Total: 2, Remaining: 2, ResetAfter: 1000, MaxConcurrency: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if !srv.ConsumeSessionStart() || !srv.ConsumeSessionStart() || srv.ConsumeSessionStart() {
		t.Fatal("session starts not counted down to zero")
	}
	if g := srv.GatewayBot(); g.SessionStartLimit.Remaining != 0 || g.Shards != 2 {
		t.Fatalf("gateway bot %+v", g)
	}

	got := make(chan discordtest.Request, 1)
	go func() {
		r, err := srv.Wait(t.Context(), discordtest.Route("POST /webhooks/*/*"))
		if err == nil {
			got <- r
		}
		close(got)
	}()
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Post(srv.URL+"/webhooks/1/tok?wait=true", "application/json", strings.NewReader(`{"content":"x"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if r, ok := <-got; !ok || string(r.JSON) != `{"content":"x"}` || resp.StatusCode != 200 {
		t.Fatalf("wait: %+v status %d", r, resp.StatusCode)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	if _, err := srv.Wait(ctx, discordtest.Route("GET /nothing")); !errors.Is(err, discordtest.ErrNoMatch) {
		t.Fatalf("wait without match: %v", err)
	}
}

func TestServerMount(t *testing.T) {
	leaktest.Check(t)
	srv, err := discordtest.NewServer(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	srv.Mount("/gateway", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusTeapot)
	}))
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	base := strings.TrimSuffix(srv.URL, "/api/v10")
	resp, err := (&http.Client{Transport: tr}).Get(base + "/gateway?v=10")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTeapot || len(srv.Requests()) != 0 {
		t.Fatalf("mounted handler: %d, recorded %d", resp.StatusCode, len(srv.Requests()))
	}
}

// A Server with MaxRecorded keeps the newest requests, not all, and Wait
// still finds a request that comes after old ones were dropped.
func TestServerMaxRecorded(t *testing.T) {
	leaktest.Check(t)
	srv, err := discordtest.NewServer(&discordtest.ServerOptions{MaxRecorded: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	post := func(i int) {
		t.Helper()
		resp, err := (&http.Client{Transport: tr}).Post(fmt.Sprintf("%s/webhooks/1/tok?n=%d", srv.URL, i), "application/json", strings.NewReader(fmt.Sprintf(`{"content":"%d"}`, i)))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	for i := range 20 {
		post(i)
	}
	reqs := srv.Requests()
	if len(reqs) < 4 || len(reqs) > 8 || string(reqs[len(reqs)-1].JSON) != `{"content":"19"}` {
		t.Fatalf("kept %d requests, the last %s; want 4 to 8 ending with the 20th", len(reqs), reqs[len(reqs)-1].JSON)
	}
	got := make(chan discordtest.Request, 1)
	go func() {
		r, _ := srv.Wait(t.Context(), func(r discordtest.Request) bool { return string(r.JSON) == `{"content":"42"}` })
		got <- r
	}()
	for i := 20; i < 43; i++ {
		post(i)
	}
	select {
	case r := <-got:
		if string(r.JSON) != `{"content":"42"}` {
			t.Fatalf("wait found %s", r.JSON)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("wait did not see the request made after old ones were dropped")
	}
}
