package ipc_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ipcord/ipcord/internal/leaktest"
	"github.com/ipcord/ipcord/ipc"
)

func TestForwarderReachesAConnectedClient(t *testing.T) {
	leaktest.Check(t)
	srv := &ipc.Server{Router: ipc.NewRouter(), Secret: secret}
	if err := srv.Router.Handle(ipc.ForwardRoute, ipc.Forwarder(srv)); err != nil {
		t.Fatal(err)
	}
	u := startServer(t, srv)
	bots := ipc.NewRouter()
	bots.HandleFunc("guilds", func(ctx context.Context, req *ipc.Request) (any, error) { return []int{1, 2}, nil })
	dial(t, ipc.ClientConfig{URL: u, Identifier: "bot-1", Router: bots})
	dial(t, ipc.ClientConfig{URL: u, Identifier: "bot-z", Router: bots, Dialect: ipc.Zonis})
	tool := dial(t, ipc.ClientConfig{URL: u, Identifier: "tool"})
	ctx := ctxTimeout(t, 5*time.Second)
	for _, id := range []string{"bot-1", "bot-z"} {
		got, err := ipc.CallAs[[]int](ctx, tool, ipc.ForwardRoute, ipc.ForwardArgs{Client: id, Route: "guilds"})
		if err != nil || len(got) != 2 {
			t.Fatalf("forward to %s: %v %v", id, got, err)
		}
		if err := tool.Call(ctx, ipc.ForwardRoute, ipc.ForwardArgs{Client: id, Route: "nope"}, nil); !errors.Is(err, ipc.ErrUnknownRoute) {
			t.Fatalf("forwarded unknown route: %v", err)
		}
	}
	if err := tool.Call(ctx, ipc.ForwardRoute, ipc.ForwardArgs{Client: "ghost", Route: "guilds"}, nil); !errors.Is(err, ipc.ErrUnknownClient) {
		t.Fatalf("forward to nobody: %v", err)
	}
	if err := tool.Call(ctx, ipc.ForwardRoute, map[string]int{"x": 1}, nil); !errors.Is(err, ipc.ErrBadRequest) {
		t.Fatalf("bad forward args: %v", err)
	}
}
