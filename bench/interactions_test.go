package bench

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"testing"
	"time"

	disgodiscord "github.com/disgoorg/disgo/discord"
	"github.com/disgoorg/disgo/httpserver"
	"github.com/ipcord/ipcord/discord"
	"github.com/ipcord/ipcord/discordtest"
	"github.com/ipcord/ipcord/interactions"
)

// The interactions Discord sends: a PING, and a /ping command.
var (
	benchPing    = []byte(`{"application_id":"123456789012345678","id":"123456789012345679","token":"aW50ZXJhY3Rpb246MTIzNDU2Nzg5MDEyMzQ1Njc5OmV4YW1wbGU","type":1,"user":{"id":"53908232506183680","username":"mason","discriminator":"0","avatar":null},"version":1}`)
	benchCommand = []byte(`{"application_id":"123456789012345678","id":"123456789012345680","token":"aW50ZXJhY3Rpb246MTIzNDU2Nzg5MDEyMzQ1NjgwOmV4YW1wbGU","type":2,"version":1,` +
		`"channel_id":"123456789012345681","guild_id":"123456789012345682","locale":"en-US","guild_locale":"en-US","app_permissions":"2248473465835073",` +
		`"member":{"user":{"id":"53908232506183680","username":"mason","discriminator":"0","avatar":null,"global_name":"Mason"},"roles":[],"joined_at":"2024-01-01T00:00:00.000000+00:00","deaf":false,"mute":false,"flags":0,"permissions":"2248473465835073"},` +
		`"data":{"id":"123456789012345683","name":"ping","type":1}}`)
)

// discardWriter is a minimal ResponseWriter, so the figures are the
// handlers' and not a recorder's.
type discardWriter struct {
	h      http.Header
	status int
}

func (w *discardWriter) Header() http.Header { return w.h }
func (w *discardWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = 200
	}
	return len(p), nil
}
func (w *discardWriter) WriteHeader(s int) { w.status = s }

// signedRequest is a request as Discord sends it, whose body can be
// re-armed before each use.
type signedRequest struct {
	req  *http.Request
	body []byte
	rd   *bytes.Reader
}

func newSignedRequest(signer *discordtest.Signer, body []byte) *signedRequest {
	sig, ts := signer.Headers(body)
	req, _ := http.NewRequest("POST", "/interactions", nil)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Signature-Ed25519", sig)
	req.Header.Set("X-Signature-Timestamp", ts)
	return &signedRequest{req: req, body: body, rd: bytes.NewReader(body)}
}

func (s *signedRequest) serve(h http.Handler, w *discardWriter) {
	s.rd.Reset(s.body)
	s.req.Body = io.NopCloser(s.rd)
	clear(w.h)
	w.status = 0
	h.ServeHTTP(w, s.req)
}

// ipcordHandler is an interactions.Endpoint in its default configuration
// with a /ping listener.
func ipcordHandler(b *testing.B, signer *discordtest.Signer, newVerifier func(ed25519.PublicKey) (interactions.Verifier, error)) http.Handler {
	e, err := interactions.New(interactions.Config{PublicKey: signer.PublicKeyHex(), NewVerifier: newVerifier})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { e.Shutdown(context.Background()) })
	e.Command(discord.CommandChatInput, "ping", func(context.Context, *interactions.Event) (*interactions.Response, error) {
		return interactions.Reply("pong"), nil
	})
	return e
}

// disgoHandler is disgo's httpserver.HandleInteraction with the handler a
// disgo bot runs reduced to the minimum: PONG for a PING, a message for
// the command.
func disgoHandler(signer *discordtest.Signer) http.Handler {
	logger := slog.New(slog.DiscardHandler)
	return httpserver.HandleInteraction(httpserver.PublicKey(signer.PublicKey()), logger,
		func(respond httpserver.RespondFunc, ev httpserver.EventInteractionCreate) {
			if ev.Type() == disgodiscord.InteractionTypePing {
				respond(disgodiscord.InteractionResponse{Type: disgodiscord.InteractionResponseTypePong})
				return
			}
			respond(disgodiscord.InteractionResponse{Type: disgodiscord.InteractionResponseTypeCreateMessage,
				Data: disgodiscord.MessageCreate{Content: "pong"}})
		})
}

// benchHandler sends one request through h b.N times and reports the
// median time per request: a median, so that the other processes'
// preemptions on this shared machine do not decide it. ipcord and disgo
// are measured in separate runs, alternated by the script in
// BENCHMARKS.md, because interleaving them in one loop let disgo's
// goroutine hand-offs (which move the benchmark between CPUs) slow down
// whatever ran next.
func benchHandler(b *testing.B, body []byte, handler func(*testing.B, *discordtest.Signer) http.Handler) {
	signer, err := discordtest.NewSigner()
	if err != nil {
		b.Fatal(err)
	}
	h := handler(b, signer)
	req := newSignedRequest(signer, body)
	w := &discardWriter{h: http.Header{}}
	ds := make([]time.Duration, 0, b.N)
	for b.Loop() {
		t0 := time.Now()
		req.serve(h, w)
		ds = append(ds, time.Since(t0))
		if w.status != 200 {
			b.Fatalf("answered %d", w.status)
		}
	}
	slices.Sort(ds)
	b.ReportMetric(float64(ds[len(ds)/2].Nanoseconds())/1e3, "p50-µs")
}

func ipcordDefault(b *testing.B, s *discordtest.Signer) http.Handler { return ipcordHandler(b, s, nil) }
func ipcordStd(b *testing.B, s *discordtest.Signer) http.Handler {
	return ipcordHandler(b, s, interactions.StdVerifier)
}
func disgo(_ *testing.B, s *discordtest.Signer) http.Handler { return disgoHandler(s) }

// BenchmarkInteractionsPing is a PING through ipcord's endpoint in its
// default configuration, the same with crypto/ed25519 as its verifier
// (StdVerifier), and disgo's handler.
func BenchmarkInteractionsPing(b *testing.B) {
	b.Run("ipcord", func(b *testing.B) { benchHandler(b, benchPing, ipcordDefault) })
	b.Run("ipcord-StdVerifier", func(b *testing.B) { benchHandler(b, benchPing, ipcordStd) })
	b.Run("disgo", func(b *testing.B) { benchHandler(b, benchPing, disgo) })
}

// BenchmarkInteractionsCommand is a /ping command answered at once.
func BenchmarkInteractionsCommand(b *testing.B) {
	b.Run("ipcord", func(b *testing.B) { benchHandler(b, benchCommand, ipcordDefault) })
	b.Run("disgo", func(b *testing.B) { benchHandler(b, benchCommand, disgo) })
}
