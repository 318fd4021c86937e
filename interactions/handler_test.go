package interactions_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ipcord/ipcord/discordtest"
	"github.com/ipcord/ipcord/interactions"
	"github.com/ipcord/ipcord/internal/leaktest"
)

const unauthorized = `{"message":"invalid request signature"}`

func TestBadRequestsNeverReachListeners(t *testing.T) {
	leaktest.Check(t)
	now := time.Unix(1_800_000_000, 0)
	f := newFixture(t, interactions.Config{MaxBodyBytes: 4096, Now: func() time.Time { return now }})
	f.signer.Now = func() time.Time { return now }
	var called atomic.Int32
	if err := f.e.Command(1, "ping", func(context.Context, *interactions.Event) (*interactions.Response, error) {
		called.Add(1)
		return interactions.Reply("pong"), nil
	}); err != nil {
		t.Fatal(err)
	}
	good := command("ping", "")
	sign := func(ts string, body string) string { return f.signer.Sign(ts, []byte(body)) }
	nowTS := strconv.FormatInt(now.Unix(), 10)

	tests := []struct {
		name        string
		method      string
		contentType string
		sig, ts     *string
		body        string
		signedBody  string // when set, the signature is over this instead
		status      int
		wantBody    string
	}{
		{name: "GET", method: "GET", status: 405, wantBody: `{"message":"method not allowed: use POST"}`},
		{name: "PUT", method: "PUT", status: 405, wantBody: `{"message":"method not allowed: use POST"}`},
		{name: "text/plain", contentType: "text/plain", status: 415, wantBody: `{"message":"content type must be application/json"}`},
		{name: "no content type", contentType: "-", status: 415, wantBody: `{"message":"content type must be application/json"}`},
		{name: "malformed content type", contentType: "application/json; =", status: 415, wantBody: `{"message":"content type must be application/json"}`},
		{name: "no signature", sig: ptr(""), status: 401, wantBody: unauthorized},
		{name: "short signature", sig: ptr("abcd"), status: 401, wantBody: unauthorized},
		{name: "non-hex signature", sig: ptr(strings.Repeat("zz", 64)), status: 401, wantBody: unauthorized},
		{name: "no timestamp", ts: ptr(""), status: 401, wantBody: unauthorized},
		{name: "signed timestamp not a number", ts: ptr("17e8"), status: 401, wantBody: unauthorized},
		{name: "negative timestamp", ts: ptr("-1"), status: 401, wantBody: unauthorized},
		{name: "stale timestamp", ts: ptr(strconv.FormatInt(now.Add(-6*time.Minute).Unix(), 10)), status: 401, wantBody: unauthorized},
		{name: "future timestamp", ts: ptr(strconv.FormatInt(now.Add(6*time.Minute).Unix(), 10)), status: 401, wantBody: unauthorized},
		{name: "body over the limit", body: `{"type":2,"pad":"` + strings.Repeat("x", 5000) + `"}`, status: 413, wantBody: `{"message":"request body too large"}`},
		{name: "signature of another body", signedBody: `{"type":1}`, status: 401, wantBody: unauthorized},
		{name: "all-zero signature", sig: ptr(strings.Repeat("0", 128)), status: 401, wantBody: unauthorized},
		{name: "not JSON", body: `{"type":2,`, status: 400, wantBody: `{"message":"body is not a valid interaction"}`},
		{name: "unknown type (501, as hikari)", body: `{"id":"1","type":42,"token":"t"}`, status: 501, wantBody: `{"message":"unknown interaction type"}`},
		{name: "command without data", body: `{"id":"1","type":2,"token":"t"}`, status: 400, wantBody: `{"message":"body is not a valid interaction"}`},
		{name: "data of the wrong shape", body: `{"id":"1","type":3,"token":"t","data":{"custom_id":5}}`, status: 400, wantBody: `{"message":"body is not a valid interaction"}`},
		{name: "no listener", body: command("nope", ""), status: 501, wantBody: `{"message":"no listener for this interaction"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := tt.body
			if body == "" {
				body = good
			}
			method := tt.method
			if method == "" {
				method = "POST"
			}
			ts := nowTS
			if tt.ts != nil {
				ts = *tt.ts
			}
			signed := body
			if tt.signedBody != "" {
				signed = tt.signedBody
			}
			sig := sign(ts, signed)
			if tt.sig != nil {
				sig = *tt.sig
			}
			req, _ := http.NewRequestWithContext(t.Context(), method, f.url, strings.NewReader(body))
			switch tt.contentType {
			case "":
				req.Header.Set("Content-Type", "application/json")
			case "-":
			default:
				req.Header.Set("Content-Type", tt.contentType)
			}
			req.Header.Set(interactions.HeaderSignature, sig)
			req.Header.Set(interactions.HeaderTimestamp, ts)
			status, h, got := f.do(req)
			if status != tt.status || string(got) != tt.wantBody {
				t.Fatalf("got %d %s, want %d %s", status, got, tt.status, tt.wantBody)
			}
			if status == 405 && h.Get("Allow") != "POST" {
				t.Errorf("405 without Allow: POST")
			}
		})
	}
	if n := called.Load(); n != 0 {
		t.Fatalf("listener called %d times by bad requests", n)
	}
	// The same request, correct, does reach it (the table is not vacuous).
	req, _ := f.signer.NewRequest(t.Context(), f.url, []byte(good))
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	if status, _, body := f.do(req); status != 200 || called.Load() != 1 {
		t.Fatalf("good request: %d %s, called %d", status, body, called.Load())
	}
}

func ptr(s string) *string { return &s }

func TestPing(t *testing.T) {
	leaktest.Check(t)
	f := newFixture(t, interactions.Config{})
	status, h, body := f.post(`{"id":"1","application_id":"11","type":1,"token":"t","version":1}`)
	if status != 200 || string(body) != `{"type":1}` || h.Get("Content-Type") != "application/json" {
		t.Fatalf("PING: %d %q %q", status, h.Get("Content-Type"), body)
	}
}

func TestReplayWindowCanBeDisabled(t *testing.T) {
	leaktest.Check(t)
	f := newFixture(t, interactions.Config{ReplayWindow: interactions.NoReplayWindow})
	f.signer.Now = func() time.Time { return time.Unix(1000, 0) } // 1970
	if status, _, body := f.post(`{"id":"1","type":1,"token":"t"}`); status != 200 {
		t.Fatalf("old timestamp with the window off: %d %s", status, body)
	}
}

// countingReader is an endless body that counts what is read of it.
type countingReader struct{ n atomic.Int64 }

func (r *countingReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = ' '
	}
	r.n.Add(int64(len(p)))
	return len(p), nil
}

// TestForgedContentLength: a request claiming 6 GiB costs no more than the
// body limit, in bytes read and in memory.
func TestForgedContentLength(t *testing.T) {
	const limit = 1 << 20
	signer, _ := discordtest.NewSigner()
	e, err := interactions.New(interactions.Config{PublicKey: signer.PublicKeyHex()})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Shutdown(t.Context())
	body := &countingReader{}
	req := httptest.NewRequest("POST", "/", io.NopCloser(body))
	req.ContentLength = 6 << 30
	req.Header.Set("Content-Type", "application/json")
	sig, ts := signer.Headers([]byte("{}"))
	req.Header.Set(interactions.HeaderSignature, sig)
	req.Header.Set(interactions.HeaderTimestamp, ts)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	runtime.ReadMemStats(&after)
	if rec.Code != 413 {
		t.Fatalf("status %d", rec.Code)
	}
	if n := body.n.Load(); n > limit+64<<10 {
		t.Fatalf("read %d bytes of a forged body, limit %d", n, limit)
	}
	// Growing the buffer by doubling allocates under 2× the limit in all;
	// the race detector and httptest add some on top.
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 4*limit {
		t.Fatalf("allocated %d bytes for a forged 6 GiB request", alloc)
	}
}

// TestForgedContentLengthOverTCP sends the forged header on a real socket
// and gets 413 after the limit, not a wait for 6 GiB.
func TestForgedContentLengthOverTCP(t *testing.T) {
	leaktest.Check(t)
	f := newFixture(t, interactions.Config{MaxBodyBytes: 64 << 10})
	u := strings.TrimPrefix(f.url, "http://")
	host, path, _ := strings.Cut(u, "/")
	conn, err := net.DialTimeout("tcp", host, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	sig, ts := f.signer.Headers([]byte("{}"))
	fmt.Fprintf(conn, "POST /%s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n%s: %s\r\n%s: %s\r\n\r\n",
		path, int64(6)<<30, interactions.HeaderSignature, sig, interactions.HeaderTimestamp, ts)
	go func() { conn.Write(bytes.Repeat([]byte(" "), 80<<10)) }()
	buf := make([]byte, 512)
	n, err := io.ReadAtLeast(conn, buf, 12)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(buf[:n]), "HTTP/1.1 413") {
		t.Fatalf("answer %q", buf[:n])
	}
}
