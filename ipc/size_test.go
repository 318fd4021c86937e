package ipc_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ipcord/ipcord/internal/leaktest"
	"github.com/ipcord/ipcord/internal/wsproto"
	"github.com/ipcord/ipcord/ipc"
)

// sizedRouter's "sized" returns a string of the length asked for.
func sizedRouter(t *testing.T) *ipc.Router {
	r := ipc.NewRouter()
	must(t, r.HandleFunc("sized", func(ctx context.Context, req *ipc.Request) (any, error) {
		var a struct{ N int }
		json.Unmarshal(req.Args, &a)
		return strings.Repeat("x", a.N), nil
	}))
	must(t, r.HandleFunc("echo", func(ctx context.Context, req *ipc.Request) (any, error) { return req.Args, nil }))
	return r
}

// A reply or a request larger than its receiver accepts fails that call
// with ErrTooLarge; the connection and the other calls on it go on.
func TestOversizedCallFailsAlone(t *testing.T) {
	leaktest.Check(t)
	u := startServer(t, &ipc.Server{Router: sizedRouter(t), Secret: secret})
	c := dial(t, ipc.ClientConfig{URL: u, MaxMessage: 64 << 10})
	ctx := ctxTimeout(t, 60*time.Second) // megabytes each way, under -race on a loaded machine
	if err := c.Call(ctx, "sized", map[string]int{"N": 100 << 10}, nil); !errors.Is(err, ipc.ErrTooLarge) {
		t.Fatalf("a 100 KiB reply to a client taking 64 KiB: %v, want ErrTooLarge", err)
	}
	big := strings.Repeat("y", 2<<20)
	if err := c.Call(ctx, "echo", big, nil); !errors.Is(err, ipc.ErrTooLarge) {
		t.Fatalf("a 2 MiB request to a server taking 1 MiB: %v, want ErrTooLarge", err)
	}
	if got, err := ipc.CallAs[string](ctx, c, "sized", map[string]int{"N": 10}); err != nil || len(got) != 10 {
		t.Fatalf("the next call on the connection: %q, %v", got, err)
	}

	// The dialects: 4 MiB by default, as aiohttp's peers; past it the call
	// fails in the dialect's own form and the connection stays.
	pc := plainDial(t, u, nil)
	pc.dec.MaxMessage = 16 << 20
	pc.send(`{"endpoint": "echo", "data": {"s": "` + strings.Repeat("z", 3<<20) + `"}, "headers": {"Authorization": "s3cret"}}`)
	if m, err := pc.next(10 * time.Second); err != nil || m.Op != wsproto.OpText || len(m.Payload) < 3<<20 {
		t.Fatalf("a 3 MiB ext-ipc request: %v %v (%d bytes)", m.Op, err, len(m.Payload))
	}
	pc.send(`{"endpoint": "sized", "data": {"N": 5000000}, "headers": {"Authorization": "s3cret"}}`)
	if m, err := pc.next(10 * time.Second); err != nil || string(m.Payload) != `{"error": "IPC route raised error of type TooLarge", "code": 500}` {
		t.Fatalf("a 5 MB reply on ext-ipc: %q %v", m.Payload, err)
	}
	pc.send(`{"endpoint": "sized", "data": {"N": 3}, "headers": {"Authorization": "s3cret"}}`)
	if m, err := pc.next(10 * time.Second); err != nil || string(m.Payload) != `"xxx"` {
		t.Fatalf("the next ext-ipc call: %q %v", m.Payload, err)
	}
	ext := dialDialect(t, ipc.ExtIPC, u)
	if err := ext.Call(ctx, "echo", map[string]string{"s": strings.Repeat("w", 5<<20)}, nil); !errors.Is(err, ipc.ErrTooLarge) {
		t.Fatalf("a 5 MiB request from the ext-ipc client: %v, want ErrTooLarge", err)
	}
	if got, err := ipc.CallAs[map[string]string](ctx, ext, "echo", map[string]string{"s": strings.Repeat("w", 2<<20)}); err != nil || len(got["s"]) != 2<<20 {
		t.Fatalf("a 2 MiB ext-ipc call: %v", err)
	}
}
