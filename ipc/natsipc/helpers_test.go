package natsipc_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/ipcord/ipcord/internal/natstest"
	"github.com/ipcord/ipcord/ipc"
	"github.com/ipcord/ipcord/ipc/natsipc"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// startServer runs an embedded nats-server on 127.0.0.1 (port 0 picks a
// free one) with JetStream, stopped when the test ends.
func startServer(t testing.TB, port int, storeDir string) *server.Server {
	t.Helper()
	if storeDir == "" {
		storeDir = t.TempDir()
	}
	return natstest.Start(t, &server.Options{Port: port, JetStream: true, StoreDir: storeDir})
}

// pingThrough joins url twice with opts, as cluster c0 serving "ping" and
// as a caller, and checks that a call goes through.
func pingThrough(t *testing.T, url string, opts ...nats.Option) {
	t.Helper()
	r := ipc.NewRouter()
	r.HandleFunc("ping", func(ctx context.Context, req *ipc.Request) (any, error) { return "pong", nil })
	srv, err := natsipc.Connect(url, natsipc.Config{Cluster: "c0", Router: r}, opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	caller, err := natsipc.Connect(url, natsipc.Config{}, opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer caller.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if got, err := ipc.CallAs[string](ctx, caller, "ping", nil); err != nil || got != "pong" {
		t.Fatalf("ping = %q, %v", got, err)
	}
}

// connect dials s and closes the connection when the test ends.
func connect(t testing.TB, url string, opts ...nats.Option) *nats.Conn {
	t.Helper()
	opts = append([]nats.Option{nats.MaxReconnects(-1), nats.ReconnectWait(20 * time.Millisecond), nats.ReconnectJitter(0, 0)}, opts...)
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// fast is a Config whose heartbeats make liveness tests quick.
func fast(cluster string, r *ipc.Router) natsipc.Config {
	return natsipc.Config{Cluster: cluster, Router: r, Heartbeat: 25 * time.Millisecond, HeartbeatMisses: 3, CallTimeout: 5 * time.Second}
}

// join starts a node on its own connection, closed when the test ends.
func join(t testing.TB, url string, cfg natsipc.Config) *natsipc.Node {
	t.Helper()
	n, err := natsipc.New(connect(t, url), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	return n
}

// waitMembers polls until n knows exactly want (sorted) or fails.
func waitMembers(t testing.TB, n *natsipc.Node, want ...string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		got := n.Members()
		if fmt.Sprint(got) == fmt.Sprint(want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("members = %v, want %v", got, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// testRouter serves routes every cluster of a test has: whoami, echo,
// fail (own code), panic, deadline (reports the remaining time) and block
// (waits for its context, after signalling started).
func testRouter(name string, started chan<- string) *ipc.Router {
	r := ipc.NewRouter()
	r.HandleFunc("whoami", func(ctx context.Context, req *ipc.Request) (any, error) {
		return map[string]string{"cluster": name, "peer": req.Peer}, nil
	})
	r.HandleFunc("echo", func(ctx context.Context, req *ipc.Request) (any, error) { return req.Args, nil })
	r.HandleFunc("fail", func(ctx context.Context, req *ipc.Request) (any, error) {
		return nil, &ipc.Error{Code: "guild_not_found", Message: "no guild 42"}
	})
	r.HandleFunc("panic", func(ctx context.Context, req *ipc.Request) (any, error) { panic("boom") })
	r.HandleFunc("deadline", func(ctx context.Context, req *ipc.Request) (any, error) {
		dl, ok := ctx.Deadline()
		if !ok {
			return nil, errors.New("no deadline")
		}
		return time.Until(dl).Milliseconds(), nil
	})
	r.HandleFunc("block", func(ctx context.Context, req *ipc.Request) (any, error) {
		if started != nil {
			started <- name
		}
		<-ctx.Done()
		return nil, ctx.Err()
	})
	return r
}

func runtimeProcs() int { return runtime.GOMAXPROCS(0) }
