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

// benchAgainstDisgo alternates one request through ipcord's endpoint and
// the same request through disgo's handler inside one loop, so both see
// the same machine load, and reports each one's median time per request
// (a median, so that the other processes' preemptions, which land on one
// side at random, do not decide it) and the ratio of the medians.
func benchAgainstDisgo(b *testing.B, body []byte, newVerifier func(ed25519.PublicKey) (interactions.Verifier, error)) {
	signer, err := discordtest.NewSigner()
	if err != nil {
		b.Fatal(err)
	}
	ours, theirs := ipcordHandler(b, signer, newVerifier), disgoHandler(signer)
	req := newSignedRequest(signer, body)
	w := &discardWriter{h: http.Header{}}
	var tOurs, tTheirs []time.Duration
	for b.Loop() {
		t0 := time.Now()
		req.serve(ours, w)
		t1 := time.Now()
		if w.status != 200 {
			b.Fatalf("ipcord answered %d", w.status)
		}
		req.serve(theirs, w)
		t2 := time.Now()
		if w.status != 200 {
			b.Fatalf("disgo answered %d", w.status)
		}
		tOurs = append(tOurs, t1.Sub(t0))
		tTheirs = append(tTheirs, t2.Sub(t1))
	}
	mOurs, mTheirs := median(tOurs), median(tTheirs)
	b.ReportMetric(float64(mOurs.Nanoseconds())/1e3, "ipcord-µs")
	b.ReportMetric(float64(mTheirs.Nanoseconds())/1e3, "disgo-µs")
	b.ReportMetric(float64(mTheirs)/float64(mOurs), "disgo/ipcord")
}

func median(ds []time.Duration) time.Duration {
	slices.Sort(ds)
	return ds[len(ds)/2]
}

// BenchmarkInteractionsPing is a PING through ipcord's endpoint in its
// default configuration, alternated with disgo's handler; StdVerifier is
// the same with crypto/ed25519 as ipcord's verifier.
func BenchmarkInteractionsPing(b *testing.B) {
	b.Run("default", func(b *testing.B) { benchAgainstDisgo(b, benchPing, nil) })
	b.Run("StdVerifier", func(b *testing.B) { benchAgainstDisgo(b, benchPing, interactions.StdVerifier) })
}

// BenchmarkInteractionsCommand is a /ping command answered at once.
func BenchmarkInteractionsCommand(b *testing.B) {
	b.Run("default", func(b *testing.B) { benchAgainstDisgo(b, benchCommand, nil) })
}
