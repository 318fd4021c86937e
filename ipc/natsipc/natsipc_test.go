package natsipc_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/ipcord/ipcord/internal/leaktest"
	"github.com/ipcord/ipcord/ipc"
	"github.com/ipcord/ipcord/ipc/natsipc"
)

func TestCallRoutesAndErrors(t *testing.T) {
	leaktest.Check(t)
	s := startServer(t, 0, "")
	join(t, s.ClientURL(), fast("c0", testRouter("c0", nil)))
	caller := join(t, s.ClientURL(), natsipc.Config{Cluster: "dash"})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	who, err := ipc.CallAs[map[string]string](ctx, caller, "whoami", nil)
	if err != nil || who["cluster"] != "c0" || who["peer"] != "dash" {
		t.Fatalf("whoami = %v, %v; want cluster c0 seen from peer dash", who, err)
	}
	var echo json.RawMessage
	if err := caller.Cluster("c0").Call(ctx, "/echo", json.RawMessage(`{"a":[1,2]}`), &echo); err != nil || string(echo) != `{"a":[1,2]}` {
		t.Fatalf("echo = %s, %v", echo, err)
	}

	err = caller.Call(ctx, "fail", nil, nil)
	var ie *ipc.Error
	if !errors.As(err, &ie) || ie.Code != "guild_not_found" || ie.Message != "no guild 42" {
		t.Fatalf("fail: %v; want the handler's own code and message", err)
	}
	if err := caller.Call(ctx, "panic", nil, nil); !errors.Is(err, ipc.ErrHandler) {
		t.Fatalf("panic: %v; want handler_error", err)
	}
	if err := caller.Call(ctx, "bad name!", nil, nil); !errors.Is(err, ipc.ErrInvalidName) {
		t.Fatalf("bad name: %v", err)
	}
	// A known cluster without the route answers unknown_route itself.
	if err := caller.Cluster("c0").Call(ctx, "nope", nil, nil); !errors.Is(err, ipc.ErrUnknownRoute) || errors.Is(err, natsipc.ErrNoResponders) {
		t.Fatalf("cluster c0, unknown route: %v", err)
	}
	if err := caller.Cluster("bad.name").Call(ctx, "echo", nil, nil); !errors.Is(err, natsipc.ErrInvalidCluster) {
		t.Fatalf("bad cluster name: %v", err)
	}
}

func TestNoRespondersFailAtOnce(t *testing.T) {
	leaktest.Check(t)
	s := startServer(t, 0, "")
	caller := join(t, s.ClientURL(), natsipc.Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	start := time.Now()
	err := caller.Call(ctx, "nobody_serves_this", nil, nil)
	if !errors.Is(err, ipc.ErrUnknownRoute) || !errors.Is(err, natsipc.ErrNoResponders) {
		t.Fatalf("call: %v; want unknown_route and no responders", err)
	}
	err = caller.Cluster("ghost").Call(ctx, "echo", nil, nil)
	if !errors.Is(err, ipc.ErrUnknownClient) || !errors.Is(err, natsipc.ErrNoResponders) {
		t.Fatalf("cluster call: %v; want unknown_client and no responders", err)
	}
	res, err := caller.Broadcast(ctx, "echo", nil)
	if err != nil || len(res) != 0 {
		t.Fatalf("broadcast with no clusters = %v, %v; want no results at once", res, err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("no-responder calls took %v; they must not wait for the deadline", took)
	}
}

func TestDeadlineTravels(t *testing.T) {
	leaktest.Check(t)
	s := startServer(t, 0, "")
	join(t, s.ClientURL(), fast("c0", testRouter("c0", nil)))
	caller := join(t, s.ClientURL(), natsipc.Config{})

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	left, err := ipc.CallAs[int64](ctx, caller, "deadline", nil)
	if err != nil || left <= 0 || left > 3000 {
		t.Fatalf("handler saw %d ms left, %v; want within the caller's 3 s", left, err)
	}

	// The handler's context ends with the caller's deadline.
	short, cancel2 := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel2()
	start := time.Now()
	err = caller.Call(short, "block", nil, nil)
	if !errors.Is(err, ipc.ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("block: %v; want a timeout matching context.DeadlineExceeded", err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Fatalf("block took %v, want about 100 ms", took)
	}
}

func TestCallbackThroughRequestCaller(t *testing.T) {
	leaktest.Check(t)
	s := startServer(t, 0, "")
	back := ipc.NewRouter()
	back.HandleFunc("name", func(ctx context.Context, req *ipc.Request) (any, error) { return "c1", nil })
	join(t, s.ClientURL(), fast("c1", back))
	r := ipc.NewRouter()
	r.HandleFunc("ask_back", func(ctx context.Context, req *ipc.Request) (any, error) {
		if req.Caller == nil {
			return nil, errors.New("no way back")
		}
		return ipc.CallAs[string](ctx, req.Caller, "name", nil)
	})
	join(t, s.ClientURL(), fast("c0", r))
	// The caller is named c1 but serves nothing itself: the route named
	// "name" is served by the cluster c1 above, which the handler reaches
	// through Request.Caller.
	caller := join(t, s.ClientURL(), natsipc.Config{Cluster: "c1"})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	got, err := ipc.CallAs[string](ctx, caller, "ask_back", nil)
	if err != nil || got != "c1" {
		t.Fatalf("ask_back = %q, %v; want the handler to reach its caller's cluster", got, err)
	}
}

// Metadata set with ipc.WithMeta reaches a NATS handler, and so does
// ipc.RequestFrom, as over WebSocket.
func TestMetaAndRequestFromOverNATS(t *testing.T) {
	leaktest.Check(t)
	s := startServer(t, 0, "")
	r := ipc.NewRouter()
	r.Handle("trace", ipc.Func(func(ctx context.Context, _ struct{}) (map[string]string, error) {
		req, ok := ipc.RequestFrom(ctx)
		if !ok {
			return nil, errors.New("no request in the handler's context")
		}
		return map[string]string{"trace": req.Meta["trace"], "route": req.Route}, nil
	}))
	join(t, s.ClientURL(), fast("c0", r))
	caller := join(t, s.ClientURL(), natsipc.Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	got, err := ipc.CallAs[map[string]string](ipc.WithMeta(ctx, map[string]string{"trace": "t-9"}), caller, "trace", nil)
	if err != nil || got["trace"] != "t-9" || got["route"] != "trace" {
		t.Fatalf("trace = %v, %v", got, err)
	}
}

// A Router may hold names only the Python dialects can carry: a node
// serves it all the same, without those routes, and calling one over NATS
// fails with ErrInvalidName.
func TestDialectOnlyRouteNames(t *testing.T) {
	leaktest.Check(t)
	s := startServer(t, 0, "")
	r := testRouter("c0", nil)
	if err := r.HandleFunc("get stats", func(context.Context, *ipc.Request) (any, error) { return 1, nil }); err != nil {
		t.Fatal(err)
	}
	join(t, s.ClientURL(), fast("c0", r))
	caller := join(t, s.ClientURL(), natsipc.Config{Cluster: "dash"})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := ipc.CallAs[map[string]string](ctx, caller, "whoami", nil); err != nil {
		t.Fatalf("whoami: %v", err)
	}
	if err := caller.Call(ctx, "get stats", nil, nil); !errors.Is(err, ipc.ErrInvalidName) {
		t.Fatalf("get stats over NATS: %v, want ErrInvalidName", err)
	}
}

// A config that cannot work is ErrConfig (ErrInvalidCluster for a bad
// cluster name), before anything is sent.
func TestConfigErrors(t *testing.T) {
	leaktest.Check(t)
	s := startServer(t, 0, "")
	nc := connect(t, s.ClientURL())
	if _, err := natsipc.New(nil, natsipc.Config{}); !errors.Is(err, natsipc.ErrConfig) {
		t.Errorf("New(nil): %v, want ErrConfig", err)
	}
	if _, err := natsipc.New(nc, natsipc.Config{Prefix: "a.*"}); !errors.Is(err, natsipc.ErrConfig) {
		t.Errorf("a wildcard prefix: %v, want ErrConfig", err)
	}
	if _, err := natsipc.New(nc, natsipc.Config{Cluster: "a.b", Router: ipc.NewRouter()}); !errors.Is(err, natsipc.ErrInvalidCluster) {
		t.Errorf("a dotted cluster name: %v, want ErrInvalidCluster", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := natsipc.NewIdentifyLimiter(ctx, nc, natsipc.LimiterConfig{}); !errors.Is(err, natsipc.ErrConfig) {
		t.Errorf("a limiter without MaxConcurrency: %v, want ErrConfig", err)
	}
	lim, err := natsipc.NewIdentifyLimiter(ctx, nc, natsipc.LimiterConfig{MaxConcurrency: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lim.Acquire(ctx, -1); !errors.Is(err, natsipc.ErrConfig) {
		t.Errorf("Acquire(-1): %v, want ErrConfig", err)
	}
}
