package interactions_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/ipcord/ipcord/discord"
	"github.com/ipcord/ipcord/discordtest"
	"github.com/ipcord/ipcord/interactions"
)

// benchPing is a PING as Discord sends it.
var benchPing = []byte(`{"application_id":"123456789012345678","id":"123456789012345679","token":"aW50ZXJhY3Rpb246MTIzNDU2Nzg5MDEyMzQ1Njc5OmV4YW1wbGU","type":1,"user":{"id":"53908232506183680","username":"mason","discriminator":"0","avatar":null},"version":1}`)

// noVerify accepts every signature, so a benchmark shows the handler's
// cost apart from Ed25519.
type noVerify struct{}

func (noVerify) Verify(_, _ []byte) bool { return true }

func newBenchEndpoint(b *testing.B, verify bool) (*interactions.Endpoint, *discordtest.Signer) {
	signer, _ := discordtest.NewSigner()
	cfg := interactions.Config{PublicKey: signer.PublicKeyHex()}
	if !verify {
		cfg.NewVerifier = func(ed25519.PublicKey) (interactions.Verifier, error) { return noVerify{}, nil }
	}
	e, err := interactions.New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { e.Shutdown(context.Background()) })
	e.Command(discord.CommandChatInput, "ping", reply("pong"))
	return e, signer
}

// discardWriter is a minimal ResponseWriter, so the figure is the
// handler's and not a recorder's.
type discardWriter struct {
	h      http.Header
	status int
}

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *discardWriter) WriteHeader(s int)           { w.status = s }

func benchInProcess(b *testing.B, verify bool, body []byte) {
	e, signer := newBenchEndpoint(b, verify)
	sig, ts := signer.Headers(body)
	req, _ := http.NewRequest("POST", "/interactions", nil)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(interactions.HeaderSignature, sig)
	req.Header.Set(interactions.HeaderTimestamp, ts)
	rd := bytes.NewReader(body)
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		rd.Reset(body)
		req.Body = io.NopCloser(rd)
		clear(w.h)
		e.ServeHTTP(w, req)
		if w.status != 200 {
			b.Fatalf("status %d", w.status)
		}
	}
}

// BenchmarkPingHandler is a PING through the whole handler, verification
// included; BenchmarkPingHandlerNoVerify is the same without it.
func BenchmarkPingHandler(b *testing.B)         { benchInProcess(b, true, benchPing) }
func BenchmarkPingHandlerNoVerify(b *testing.B) { benchInProcess(b, false, benchPing) }

// BenchmarkCommandHandlerNoVerify runs a command listener that replies at
// once (decode, route, goroutine, encode).
func BenchmarkCommandHandlerNoVerify(b *testing.B) {
	benchInProcess(b, false, []byte(command("ping", "")))
}

// BenchmarkVerifyOnly is crypto/ed25519 on the PING's signed message.
func BenchmarkVerifyOnly(b *testing.B) {
	pub, priv, _ := ed25519.GenerateKey(nil)
	msg := append([]byte("1700000000"), benchPing...)
	sig := ed25519.Sign(priv, msg)
	v, _ := interactions.StdVerifier(pub)
	b.ReportAllocs()
	for b.Loop() {
		if !v.Verify(msg, sig) {
			b.Fatal("no")
		}
	}
}

// BenchmarkPingLoopback is a PING over a kept-alive loopback connection.
func BenchmarkPingLoopback(b *testing.B) {
	for _, verify := range []bool{true, false} {
		name := "verify"
		if !verify {
			name = "noverify"
		}
		b.Run(name, func(b *testing.B) {
			e, signer := newBenchEndpoint(b, verify)
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() { e.Serve(ctx, ln); close(done) }()
			defer func() { cancel(); <-done }()
			tr := &http.Transport{MaxIdleConnsPerHost: 1}
			defer tr.CloseIdleConnections()
			client := &http.Client{Transport: tr, Timeout: 5 * time.Second}
			url := "http://" + ln.Addr().String() + "/interactions"
			sig, ts := signer.Headers(benchPing)
			b.ReportAllocs()
			for b.Loop() {
				req, _ := http.NewRequest("POST", url, bytes.NewReader(benchPing))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set(interactions.HeaderSignature, sig)
				req.Header.Set(interactions.HeaderTimestamp, ts)
				resp, err := client.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					b.Fatal(resp.StatusCode)
				}
			}
		})
	}
}

// BenchmarkPingSplit alternates a PING through the handler (verification
// stubbed out) with the Ed25519 verification alone, in one loop, so both
// figures see the same machine load; it reports each and their ratio.
func BenchmarkPingSplit(b *testing.B) {
	e, signer := newBenchEndpoint(b, false)
	sig, ts := signer.Headers(benchPing)
	req, _ := http.NewRequest("POST", "/interactions", nil)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(interactions.HeaderSignature, sig)
	req.Header.Set(interactions.HeaderTimestamp, ts)
	rd := bytes.NewReader(benchPing)
	w := &discardWriter{h: http.Header{}}
	v, _ := interactions.StdVerifier(signer.PublicKey())
	sigBytes, _ := hex.DecodeString(sig)
	msg := append([]byte(ts), benchPing...)
	var tHandler, tVerify time.Duration
	b.ReportAllocs()
	for b.Loop() {
		rd.Reset(benchPing)
		req.Body = io.NopCloser(rd)
		clear(w.h)
		t0 := time.Now()
		e.ServeHTTP(w, req)
		t1 := time.Now()
		ok := v.Verify(msg, sigBytes)
		t2 := time.Now()
		if w.status != 200 || !ok {
			b.Fatal("failed")
		}
		tHandler += t1.Sub(t0)
		tVerify += t2.Sub(t1)
	}
	b.ReportMetric(float64(tHandler.Nanoseconds())/float64(b.N), "handler-ns/ping")
	b.ReportMetric(float64(tVerify.Nanoseconds())/float64(b.N), "verify-ns/ping")
	b.ReportMetric(float64(tVerify)/float64(tHandler), "verify/handler")
}
