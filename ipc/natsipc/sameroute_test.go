package natsipc_test

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/ipcord/ipcord/internal/leaktest"
	"github.com/ipcord/ipcord/ipc"
	"github.com/ipcord/ipcord/ipc/natsipc"
)

// One Router serves WebSocket clients and NATS callers at once: the same
// route answers both, and fails both with the same typed errors.
func TestOneRouterServesWebSocketAndNATS(t *testing.T) {
	leaktest.Check(t)
	type sum struct{ A, B int }
	r := ipc.NewRouter()
	r.Handle("add", ipc.Func(func(ctx context.Context, s sum) (int, error) {
		if s.A < 0 {
			return 0, &ipc.Error{Code: "negative", Message: "a < 0"}
		}
		return s.A + s.B, nil
	}))

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ws := &ipc.Server{Router: r, Secret: "s"}
	served := make(chan error, 1)
	go func() { served <- ws.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		ws.Shutdown(ctx)
		if err := <-served; !errors.Is(err, ipc.ErrClosed) {
			t.Errorf("Serve = %v", err)
		}
	})
	s := startServer(t, 0, "")
	join(t, s.ClientURL(), fast("c0", r))

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	wsClient, err := ipc.Dial(ctx, ipc.ClientConfig{URL: "ws://" + ln.Addr().String(), Secret: "s"})
	if err != nil {
		t.Fatal(err)
	}
	defer wsClient.Close()
	natsCaller := join(t, s.ClientURL(), natsipc.Config{})

	for name, c := range map[string]ipc.Caller{"websocket": wsClient, "nats": natsCaller} {
		if got, err := ipc.CallAs[int](ctx, c, "add", sum{2, 3}); err != nil || got != 5 {
			t.Fatalf("%s: add = %d, %v; want 5", name, got, err)
		}
		if _, err := ipc.CallAs[int](ctx, c, "add", sum{-1, 3}); !errors.Is(err, &ipc.Error{Code: "negative"}) {
			t.Fatalf("%s: %v; want the handler's own code", name, err)
		}
		if _, err := ipc.CallAs[int](ctx, c, "add", "not an object"); !errors.Is(err, ipc.ErrBadRequest) {
			t.Fatalf("%s: %v; want bad_request", name, err)
		}
		if err := c.Call(ctx, "missing", nil, nil); !errors.Is(err, ipc.ErrUnknownRoute) {
			t.Fatalf("%s: %v; want unknown_route", name, err)
		}
	}
}
