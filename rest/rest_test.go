package rest_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ipcord/ipcord/discord"
	"github.com/ipcord/ipcord/discordtest"
	"github.com/ipcord/ipcord/internal/leaktest"
	"github.com/ipcord/ipcord/rest"
)

func newServer(t *testing.T, opts *discordtest.ServerOptions) *discordtest.Server {
	t.Helper()
	srv, err := discordtest.NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

// client returns a Client whose idle connections are closed at cleanup,
// so the leak check sees no transport goroutines.
func client(t *testing.T, srv *discordtest.Server, token string) *rest.Client {
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	return &rest.Client{Token: token, BaseURL: srv.URL, HTTPClient: &http.Client{Transport: tr, Timeout: 5 * time.Second}}
}

func TestRoutes(t *testing.T) {
	leaktest.Check(t)
	srv := newServer(t, &discordtest.ServerOptions{Token: "tok", Application: discord.Application{ID: 77, VerifyKey: "ab"}})
	c := client(t, srv, "tok")
	ctx := t.Context()

	app, err := c.CurrentApplication(ctx)
	if err != nil || app.ID != 77 || app.VerifyKey != "ab" {
		t.Fatalf("application %+v %v", app, err)
	}
	gb, err := c.GatewayBot(ctx)
	if err != nil || gb.Shards != 1 || gb.SessionStartLimit.Remaining != 1000 || gb.SessionStartLimit.MaxConcurrency != 1 {
		t.Fatalf("gateway bot %+v %v", gb, err)
	}
	if !srv.ConsumeSessionStart() {
		t.Fatal("no session start left")
	}
	if gb, _ = c.GatewayBot(ctx); gb.SessionStartLimit.Remaining != 999 {
		t.Fatalf("remaining after one identify: %d", gb.SessionStartLimit.Remaining)
	}
	m, err := c.CreateMessage(ctx, 5, &discord.MessageParams{Content: "hi"})
	if err != nil || m.Content != "hi" || m.ChannelID != 5 {
		t.Fatalf("create message %+v %v", m, err)
	}
	if err := c.CreateInteractionResponse(ctx, 9, "a/b", &discord.InteractionResponse{Type: discord.ResponseDeferredMessage}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.EditOriginal(ctx, 77, "tok-1", &discord.MessageParams{Content: "edited"}); err != nil {
		t.Fatal(err)
	}
	reqs := srv.Requests()
	last := reqs[len(reqs)-1]
	if last.Method != "PATCH" || last.Path != "/webhooks/77/tok-1/messages/@original" || last.Header.Get("Authorization") != "" {
		t.Fatalf("edit original went as %s %s auth=%q", last.Method, last.Path, last.Header.Get("Authorization"))
	}
	cb := reqs[len(reqs)-2]
	if cb.Path != "/interactions/9/a%2Fb/callback" || string(cb.JSON) != `{"type":5}` {
		t.Fatalf("callback %s %s", cb.Path, cb.JSON)
	}
}

func TestTypedErrors(t *testing.T) {
	leaktest.Check(t)
	srv := newServer(t, &discordtest.ServerOptions{Token: "tok"})
	ctx := t.Context()

	_, err := client(t, srv, "wrong").GatewayBot(ctx)
	var apiErr *rest.Error
	if !errors.Is(err, rest.ErrUnauthorized) || !errors.As(err, &apiErr) || apiErr.Route != "/gateway/bot" {
		t.Fatalf("bad token: %v", err)
	}
	if _, err := (&rest.Client{BaseURL: srv.URL}).GatewayBot(ctx); !errors.Is(err, rest.ErrNoToken) {
		t.Fatalf("no token: %v", err)
	}
	c := client(t, srv, "tok")
	srv.InjectFault(discordtest.Fault{Route: "POST /webhooks/*/*", Status: 404})
	_, err = c.CreateFollowup(ctx, 1, "secret-token", &discord.MessageParams{Content: "x"})
	if !errors.Is(err, rest.ErrNotFound) || strings.Contains(err.Error(), "secret-token") {
		t.Fatalf("404: %v", err)
	}
	srv.InjectFault(discordtest.Fault{Status: 502})
	if _, err := c.GatewayBot(ctx); !errors.Is(err, rest.ErrServer) {
		t.Fatalf("502: %v", err)
	}
}

func TestRetriesAfter429(t *testing.T) {
	leaktest.Check(t)
	srv := newServer(t, nil)
	c := client(t, srv, "tok")
	srv.InjectFault(discordtest.Fault{Route: "POST /channels/*/messages", Status: 429, RetryAfter: 50 * time.Millisecond, Times: 2})
	start := time.Now()
	if _, err := c.CreateMessage(t.Context(), 1, &discord.MessageParams{Content: "x"}); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 100*time.Millisecond {
		t.Fatalf("two 429s of 50ms waited only %v", d)
	}
	if n := len(srv.Requests()); n != 3 {
		t.Fatalf("%d requests, want 3", n)
	}

	// With retries off the 429 comes back typed, with its retry_after.
	c2 := client(t, srv, "tok")
	c2.MaxRetries = -1
	srv.InjectFault(discordtest.Fault{Status: 429, RetryAfter: 2 * time.Second, Global: true})
	_, err := c2.GatewayBot(t.Context())
	var apiErr *rest.Error
	if !errors.Is(err, rest.ErrRateLimited) || !errors.As(err, &apiErr) || !apiErr.Global || apiErr.RetryAfter != 2*time.Second {
		t.Fatalf("429: %#v", err)
	}

	// A 429 whose wait outlives the context is returned at once.
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	srv.InjectFault(discordtest.Fault{Status: 429, RetryAfter: 30 * time.Second})
	start = time.Now()
	if _, err := c.GatewayBot(ctx); !errors.Is(err, rest.ErrRateLimited) || time.Since(start) > 4*time.Second {
		t.Fatalf("long 429: %v after %v", err, time.Since(start))
	}
}

func TestBucketsFromHeaders(t *testing.T) {
	leaktest.Check(t)
	srv := newServer(t, nil)
	srv.SetRateLimit(discordtest.RateLimit{Limit: 2, Window: 100 * time.Millisecond})
	c := client(t, srv, "tok")
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, 6)
	for range 6 {
		wg.Go(func() {
			_, err := c.CreateMessage(t.Context(), 42, &discord.MessageParams{Content: "x"})
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	// The first answer teaches the bucket; later requests wait for resets
	// instead of hitting 429s (at most the first burst may race).
	if n := srv.RateLimited(); n > 0 {
		t.Fatalf("server refused %d requests; the client ignored the headers", n)
	}
	if d := time.Since(start); d < 200*time.Millisecond {
		t.Fatalf("6 requests at 2 per 100ms took %v", d)
	}

	// Another channel is another bucket: with channel 42's bucket empty for
	// a second, a request to 43 is served while one to 42 still waits.
	srv.SetRateLimit(discordtest.RateLimit{Limit: 1, Window: time.Second})
	if _, err := c.CreateMessage(t.Context(), 42, &discord.MessageParams{Content: "x"}); err != nil {
		t.Fatal(err)
	}
	waiting := make(chan error, 1)
	go func() {
		_, err := c.CreateMessage(t.Context(), 42, &discord.MessageParams{Content: "y"})
		waiting <- err
	}()
	if _, err := c.CreateMessage(t.Context(), 43, &discord.MessageParams{Content: "x"}); err != nil {
		t.Fatal(err)
	}
	n42 := 0
	for _, r := range srv.Requests() {
		if r.Path == "/channels/42/messages" && strings.Contains(string(r.JSON), `"y"`) {
			n42++
		}
	}
	if n42 != 0 {
		t.Fatal("the request to the empty bucket went out before the other bucket's")
	}
	if err := <-waiting; err != nil || srv.RateLimited() != 0 {
		t.Fatalf("waiting request: %v, refused %d", err, srv.RateLimited())
	}
}

func TestClientSideGlobalLimit(t *testing.T) {
	leaktest.Check(t)
	srv := newServer(t, nil)
	c := client(t, srv, "tok")
	c.GlobalLimit = 3
	start := time.Now()
	for range 4 {
		if _, err := c.GatewayBot(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	if d := time.Since(start); d < 900*time.Millisecond {
		t.Fatalf("4 requests at 3 per second took %v", d)
	}
	// Webhooks are exempt.
	start = time.Now()
	for range 4 {
		if _, err := c.CreateFollowup(t.Context(), 1, "t", &discord.MessageParams{Content: "x"}); err != nil {
			t.Fatal(err)
		}
	}
	if d := time.Since(start); d > 900*time.Millisecond {
		t.Fatalf("webhooks waited for the global limit: %v", d)
	}
}
