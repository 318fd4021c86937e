package ipc_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
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
