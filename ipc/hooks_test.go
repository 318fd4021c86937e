package ipc_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ipcord/ipcord/internal/leaktest"
	"github.com/ipcord/ipcord/internal/syncbuf"
	"github.com/ipcord/ipcord/internal/wsproto"
	"github.com/ipcord/ipcord/ipc"
)

// Hooks that panic are recovered and logged like handlers: the call keeps
// its outcome, on the native protocol and the dialects, and the process
// lives on.
func TestPanickingHooks(t *testing.T) {
	leaktest.Check(t)
	var log syncbuf.Buffer
	boom := func() { panic("hook bug") }
	hooks := &ipc.Hooks{
		OnRequest:  func(context.Context, *ipc.Request) { boom() },
		OnComplete: func(context.Context, *ipc.Request, time.Duration, error) { boom() },
		OnError:    func(context.Context, *ipc.Request, error) { boom() },
	}
	srv := &ipc.Server{Router: dialectRouter(t, nil), Secret: secret, Hooks: hooks,
		Logger: slog.New(slog.NewTextHandler(&log, nil))}
	u := startServer(t, srv)
	c := dial(t, ipc.ClientConfig{URL: u})
	ctx := ctxTimeout(t, 5*time.Second)
	if got, err := ipc.CallAs[string](ctx, c, "hello", nil); err != nil || got != "hi" {
		t.Fatalf("hello = %q, %v", got, err)
	}
	if err := c.Call(ctx, "coded", nil, nil); !errors.Is(err, &ipc.Error{Code: "guild_not_found"}) {
		t.Fatalf("coded: %v, want the handler's own error", err)
	}
	pc := plainDial(t, u, nil)
	pc.send(`{"endpoint": "hello", "data": {}, "headers": {"Authorization": "s3cret"}}`)
	if m, err := pc.next(5 * time.Second); err != nil || m.Op != wsproto.OpText || string(m.Payload) != `"hi"` {
		t.Fatalf("ext-ipc: %v %q %v", m.Op, m.Payload, err)
	}
	for _, hook := range []string{"OnRequest", "OnComplete", "OnError"} {
		if !strings.Contains(log.String(), "hook panicked") || !strings.Contains(log.String(), "hook="+hook) {
			t.Errorf("the log does not show %s's panic:\n%s", hook, log.String())
		}
	}
}

// OnRequest sees every request, those for unknown routes included, on
// every dialect; an ext-ipc request's headers (all but the secret) are its
// metadata.
func TestHooksSeeEveryRequest(t *testing.T) {
	leaktest.Check(t)
	var mu sync.Mutex
	var seen []string
	hooks := &ipc.Hooks{
		OnRequest: func(ctx context.Context, req *ipc.Request) {
			mu.Lock()
			defer mu.Unlock()
			seen = append(seen, fmt.Sprintf("request %s peer=%q meta=%v", req.Route, req.Peer, req.Meta))
		},
		OnComplete: func(ctx context.Context, req *ipc.Request, _ time.Duration, err error) {
			mu.Lock()
			defer mu.Unlock()
			seen = append(seen, fmt.Sprintf("complete %s unknown=%v", req.Route, errors.Is(err, ipc.ErrUnknownRoute)))
		},
	}
	_, u, _ := dialectServer(t, func(s *ipc.Server) { s.Hooks = hooks })
	expect := func(what string, want ...string) {
		t.Helper()
		waitFor(t, 5*time.Second, what+" to reach the hooks", func() bool {
			mu.Lock()
			defer mu.Unlock()
			return len(seen) >= len(want)
		})
		mu.Lock()
		defer mu.Unlock()
		if got := strings.Join(seen, "\n"); got != strings.Join(want, "\n") {
			t.Fatalf("%s: hooks saw\n%s\nwant\n%s", what, got, strings.Join(want, "\n"))
		}
		seen = nil
	}

	rc := helloed(t, u, "native")
	rc.send(`{"t":"req","id":1,"route":"nope"}`)
	rc.recvJSON()
	expect("native", `request nope peer="native" meta=map[]`, `complete nope unknown=true`)

	pc := plainDial(t, u, nil)
	pc.send(`{"endpoint": "/nope", "data": {}, "headers": {"Authorization": "s3cret", "X-Trace": "t1", "Retry": 2}}`)
	pc.next(5 * time.Second)
	expect("ext-ipc", `request nope peer="" meta=map[Retry:2 X-Trace:t1]`, `complete nope unknown=true`)

	pc = plainDial(t, u, http.Header{"ID": {"dash-1"}})
	pc.send(`{"endpoint": "nope", "secret": "s3cret", "kwargs": {}}`)
	pc.next(5 * time.Second)
	expect("better-ipc", `request nope peer="dash-1" meta=map[]`, `complete nope unknown=true`)

	pc = plainDial(t, u, nil)
	pc.send(`{"packet_id": "01", "type": "request", "data": {"identifier": "bot", "type": "IDENTIFY", "data": {"secret_key": "s3cret", "override_key": null}}}`)
	pc.next(5 * time.Second)
	pc.send(`{"packet_id": "02", "type": "request", "data": {"identifier": "bot", "type": "CLIENT_REQUEST", "data": {"route": "nope", "arguments": {}}}}`)
	expect("zonis", `request nope peer="bot" meta=map[]`, `complete nope unknown=true`)
}

// Connections counts the open connections of every dialect, and drops as
// they close.
func TestConnectionsCountsEveryDialect(t *testing.T) {
	leaktest.Check(t)
	srv, u, _ := dialectServer(t, nil)
	if n := srv.Connections(); n != 0 {
		t.Fatalf("Connections = %d before any client", n)
	}
	ctx := ctxTimeout(t, 5*time.Second)
	native := dial(t, ipc.ClientConfig{URL: u, Secret: secret})
	zonis := dial(t, ipc.ClientConfig{URL: u, Secret: secret, Dialect: ipc.Zonis, Identifier: "z"})
	if err := zonis.Call(ctx, "hello", nil, nil); err != nil {
		t.Fatal(err)
	}
	pc := plainDial(t, u, nil)
	pc.send(`{"endpoint": "hello", "data": {}, "headers": {"Authorization": "s3cret"}}`)
	if _, err := pc.next(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	if n := srv.Connections(); n != 3 {
		t.Errorf("Connections = %d with a native, a Zonis and an ext-ipc client", n)
	}
	native.Close()
	zonis.Close()
	pc.nc.Close()
	waitFor(t, 5*time.Second, "connections to close", func() bool { return srv.Connections() == 0 })
}
