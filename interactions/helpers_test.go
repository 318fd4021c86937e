package interactions_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/ipcord/ipcord/discord"
	"github.com/ipcord/ipcord/discordtest"
	"github.com/ipcord/ipcord/interactions"
	"github.com/ipcord/ipcord/rest"
)

// fixture is an Endpoint served on loopback, a Signer for it, and a fake
// Discord REST server for its deliveries.
type fixture struct {
	t      *testing.T
	e      *interactions.Endpoint
	signer *discordtest.Signer
	fake   *discordtest.Server
	url    string
	client *http.Client

	since  time.Time // waitRequest looks at requests received after it
	mu     sync.Mutex
	errs   []error
	errsCh chan error
}

func newFixture(t *testing.T, cfg interactions.Config, setup ...func(*discordtest.Server)) *fixture {
	t.Helper()
	signer, err := discordtest.NewSigner()
	if err != nil {
		t.Fatal(err)
	}
	fake, err := discordtest.NewServer(&discordtest.ServerOptions{Token: "bot-token", Application: discord.Application{ID: 11, VerifyKey: signer.PublicKeyHex()}})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, signer: signer, fake: fake, errsCh: make(chan error, 64)}
	for _, s := range setup {
		s(fake)
	}
	tr := &http.Transport{}
	if cfg.REST == nil {
		cfg.REST = &rest.Client{Token: "bot-token", BaseURL: fake.URL, HTTPClient: &http.Client{Transport: tr, Timeout: 5 * time.Second}}
	}
	if cfg.PublicKey == "" && cfg.KeyRetry == 0 {
		cfg.PublicKey = signer.PublicKeyHex()
	}
	if cfg.OnError == nil {
		cfg.OnError = func(_ *interactions.Event, err error) {
			f.mu.Lock()
			f.errs = append(f.errs, err)
			f.mu.Unlock()
			select {
			case f.errsCh <- err:
			default:
			}
		}
	}
	f.e, err = interactions.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f.url = "http://" + ln.Addr().String() + "/interactions"
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- f.e.Serve(ctx, ln) }()
	ctr := &http.Transport{}
	f.client = &http.Client{Transport: ctr, Timeout: 10 * time.Second}
	t.Cleanup(func() {
		// Connections the client dialed but never used sit in the server's
		// StateNew, which http.Server.Shutdown waits for; close them first.
		ctr.CloseIdleConnections()
		cancel()
		sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer scancel()
		if err := f.e.Shutdown(sctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		if err := <-served; err != nil && !errors.Is(err, interactions.ErrClosed) {
			t.Errorf("serve: %v", err)
		}
		ctr.CloseIdleConnections()
		tr.CloseIdleConnections()
		fake.Close()
	})
	return f
}

// post sends a signed interaction and returns the status, headers and body.
func (f *fixture) post(body string) (int, http.Header, []byte) {
	f.t.Helper()
	req, err := f.signer.NewRequest(f.t.Context(), f.url, []byte(body))
	if err != nil {
		f.t.Fatal(err)
	}
	f.mu.Lock()
	f.since = time.Now()
	f.mu.Unlock()
	return f.do(req)
}

func (f *fixture) do(req *http.Request) (int, http.Header, []byte) {
	f.t.Helper()
	resp, err := f.client.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		f.t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, b
}

// waitErr waits for the next error reported to OnError.
func (f *fixture) waitErr() error {
	f.t.Helper()
	select {
	case err := <-f.errsCh:
		return err
	case <-time.After(5 * time.Second):
		f.t.Fatal("no error reported within 5s")
		return nil
	}
}

// waitRequest waits for the fake Discord to receive a matching request.
func (f *fixture) waitRequest(route string) discordtest.Request {
	f.t.Helper()
	ctx, cancel := context.WithTimeout(f.t.Context(), 5*time.Second)
	defer cancel()
	match := discordtest.Route(route)
	f.mu.Lock()
	since := f.since
	f.mu.Unlock()
	r, err := f.fake.Wait(ctx, func(r discordtest.Request) bool { return !r.Received.Before(since) && match(r) })
	if err != nil {
		f.t.Fatalf("waiting for %s: %v", route, err)
	}
	return r
}

func command(name string, options string) string {
	if options == "" {
		options = "[]"
	}
	return `{"id":"1100000000000000000","application_id":"11","type":2,"token":"tok","version":1,` +
		`"member":{"user":{"id":"5","username":"u"},"roles":[]},"data":{"id":"9","name":"` + name + `","type":1,"options":` + options + `}}`
}

func component(customID string) string {
	return `{"id":"1100000000000000001","application_id":"11","type":3,"token":"tok","version":1,` +
		`"user":{"id":"5","username":"u"},"message":{"id":"7","channel_id":"8","content":"old","author":{"id":"11","username":"bot"}},` +
		`"data":{"custom_id":"` + customID + `","component_type":2}}`
}

func autocomplete(name string) string {
	return `{"id":"1100000000000000002","application_id":"11","type":4,"token":"tok","version":1,` +
		`"data":{"id":"9","name":"` + name + `","type":1,"options":[{"name":"q","type":3,"value":"ab","focused":true}]}}`
}

func modal(customID string) string {
	return `{"id":"1100000000000000003","application_id":"11","type":5,"token":"tok","version":1,` +
		`"data":{"custom_id":"` + customID + `","components":[{"type":1,"components":[{"type":4,"custom_id":"text","value":"typed"}]}]}}`
}

func decodeResponse(t *testing.T, b []byte) discord.InteractionResponse {
	t.Helper()
	var r discord.InteractionResponse
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("response %q: %v", b, err)
	}
	return r
}

func reply(s string) interactions.Listener {
	return func(context.Context, *interactions.Event) (*interactions.Response, error) {
		return interactions.Reply(s), nil
	}
}

var _ = bytes.Equal
