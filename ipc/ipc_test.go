package ipc_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ipcord/ipcord/internal/leaktest"
	"github.com/ipcord/ipcord/ipc"
)

type addArgs struct{ A, B int }

var sleepHandler = ipc.Func(func(ctx context.Context, a struct{ MS int }) (map[string]int, error) {
	t := time.NewTimer(time.Duration(a.MS) * time.Millisecond)
	defer t.Stop()
	select {
	case <-t.C:
		return map[string]int{"slept_ms": a.MS}, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
})

// arrivals returns hooks that report each request's route as it arrives.
func arrivals(ch chan<- string) *ipc.Hooks {
	return &ipc.Hooks{OnRequest: func(ctx context.Context, req *ipc.Request) { ch <- req.Route }}
}

// testRouter returns routes used across the tests; ended receives the
// context error each "block" handler ended with.
func testRouter(t *testing.T, ended chan error) *ipc.Router {
	r := ipc.NewRouter()
	must(t, r.HandleFunc("echo", func(ctx context.Context, req *ipc.Request) (any, error) {
		return req.Args, nil
	}))
	must(t, r.Handle("add", ipc.Func(func(ctx context.Context, a addArgs) (int, error) { return a.A + a.B, nil })))
	must(t, r.Handle("sleep", sleepHandler))
	must(t, r.HandleFunc("block", func(ctx context.Context, req *ipc.Request) (any, error) {
		<-ctx.Done()
		if ended != nil {
			ended <- ctx.Err()
		}
		return nil, ctx.Err()
	}))
	must(t, r.HandleFunc("panic", func(ctx context.Context, req *ipc.Request) (any, error) { panic("boom") }))
	must(t, r.HandleFunc("fail", func(ctx context.Context, req *ipc.Request) (any, error) {
		return nil, &ipc.Error{Code: "guild_not_found", Message: "no guild 42"}
	}))
	must(t, r.HandleFunc("unencodable", func(ctx context.Context, req *ipc.Request) (any, error) {
		return math.Inf(1), nil
	}))
	must(t, r.HandleFunc("whoami", func(ctx context.Context, req *ipc.Request) (any, error) {
		got, _ := ipc.RequestFrom(ctx)
		return map[string]any{"peer": req.Peer, "meta": req.Meta, "route": req.Route, "same": got == req}, nil
	}))
	return r
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestRoundTrip(t *testing.T) {
	leaktest.Check(t)
	url := startServer(t, &ipc.Server{Router: testRouter(t, nil), Secret: secret, Name: "bot"})
	c := dial(t, ipc.ClientConfig{URL: url, Identifier: "dash"})
	ctx := ctxTimeout(t, 5*time.Second)

	sum, err := ipc.CallAs[int](ctx, c, "add", addArgs{2, 3})
	if err != nil || sum != 5 {
		t.Fatalf("add = %d, %v", sum, err)
	}
	var echoed map[string]any
	must(t, c.Call(ctx, "/echo", map[string]any{"x": "é", "n": 1.5}, &echoed))
	if echoed["x"] != "é" || echoed["n"] != 1.5 {
		t.Fatalf("echo = %v", echoed)
	}
	var who map[string]any
	must(t, c.Call(ipc.WithMeta(ctx, map[string]string{"trace": "t-1"}), "whoami", nil, &who))
	if who["peer"] != "dash" || who["route"] != "whoami" || who["same"] != true || who["meta"].(map[string]any)["trace"] != "t-1" {
		t.Fatalf("whoami = %v", who)
	}
	routes, err := c.Routes(ctx)
	if err != nil || !strings.Contains(strings.Join(routes, ","), "add,block,echo,fail") {
		t.Fatalf("Routes = %v, %v", routes, err)
	}
}

func TestErrorsAreTyped(t *testing.T) {
	leaktest.Check(t)
	r := testRouter(t, nil)
	// Python's JSON (what a dialect route may echo) is not JSON here.
	must(t, r.HandleFunc("python_json", func(ctx context.Context, req *ipc.Request) (any, error) {
		return json.RawMessage(`{"x": NaN}`), nil
	}))
	url := startServer(t, &ipc.Server{Router: r, Secret: secret})
	c := dial(t, ipc.ClientConfig{URL: url})
	ctx := ctxTimeout(t, 5*time.Second)
	tests := []struct {
		route string
		args  any
		want  error
	}{
		{"nope", nil, ipc.ErrUnknownRoute},
		{"add", map[string]any{"A": "two"}, ipc.ErrBadRequest},
		{"add", "not an object", ipc.ErrBadRequest},
		{"panic", nil, ipc.ErrHandler},
		{"fail", nil, &ipc.Error{Code: "guild_not_found"}},
		{"unencodable", nil, ipc.ErrEncode},
		{"python_json", nil, ipc.ErrEncode},
	}
	for _, tt := range tests {
		err := c.Call(ctx, tt.route, tt.args, nil)
		if !errors.Is(err, tt.want) {
			t.Errorf("%s(%v) = %v, want %v", tt.route, tt.args, err, tt.want)
		}
	}
	var e *ipc.Error
	if err := c.Call(ctx, "fail", nil, nil); !errors.As(err, &e) || e.Message != "no guild 42" {
		t.Errorf("fail: %v", err)
	}
	// The server survived every one of them.
	if n, err := ipc.CallAs[int](ctx, c, "add", addArgs{1, 1}); err != nil || n != 2 {
		t.Fatalf("after bad input: %d, %v", n, err)
	}
	if err := c.Call(ctx, "bad name!", nil, nil); !errors.Is(err, ipc.ErrInvalidName) {
		t.Errorf("invalid route name: %v", err)
	}
}

func TestConcurrentCallsRepliesOutOfOrder(t *testing.T) {
	leaktest.Check(t)
	r := testRouter(t, nil)
	release := make(chan struct{})
	must(t, r.HandleFunc("gate", func(ctx context.Context, req *ipc.Request) (any, error) {
		select {
		case <-release:
			return "released", nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}))
	arrived := make(chan string, 1)
	srv := &ipc.Server{Router: r, Secret: secret, Hooks: &ipc.Hooks{OnRequest: func(ctx context.Context, req *ipc.Request) {
		if req.Route == "gate" {
			arrived <- req.Route
		}
	}}}
	url := startServer(t, srv)
	c := dial(t, ipc.ClientConfig{URL: url})
	ctx := ctxTimeout(t, 10*time.Second)

	slowDone := make(chan error, 1)
	go func() { slowDone <- c.Call(ctx, "gate", nil, nil) }()
	<-arrived
	// While the first call is held open, many fast ones complete on the
	// same connection: replies come back out of order.
	var wg sync.WaitGroup
	var failed atomic.Int32
	for i := range 200 {
		wg.Go(func() {
			n, err := ipc.CallAs[int](ctx, c, "add", addArgs{i, 1})
			if err != nil || n != i+1 {
				failed.Add(1)
			}
		})
	}
	wg.Wait()
	select {
	case err := <-slowDone:
		t.Fatalf("held call finished before it was released: %v", err)
	default:
	}
	if failed.Load() != 0 {
		t.Fatalf("%d fast calls failed", failed.Load())
	}
	close(release)
	if err := <-slowDone; err != nil {
		t.Fatal(err)
	}
}

func TestDeadlineAndCancelReachHandler(t *testing.T) {
	leaktest.Check(t)
	ended := make(chan error, 2)
	arrived := make(chan string, 2)
	url := startServer(t, &ipc.Server{Router: testRouter(t, ended), Secret: secret, Hooks: arrivals(arrived)})
	c := dial(t, ipc.ClientConfig{URL: url})

	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	err := c.Call(ctx, "block", nil, nil)
	if !errors.Is(err, ipc.ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("deadline: %v", err)
	}
	select {
	case herr := <-ended:
		// The handler ends either by its own deadline (timeout_ms) or by
		// the cancel frame, whichever the server saw first.
		if herr == nil {
			t.Fatal("handler context did not end")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("handler never saw the deadline")
	}

	<-arrived
	// Cancel once the request is running on the server, so the cancel
	// frame is what ends the handler.
	ctx2, cancel2 := context.WithCancel(context.Background())
	go func() { <-arrived; cancel2() }()
	if err := c.Call(ctx2, "block", nil, nil); !errors.Is(err, ipc.ErrCanceled) || !errors.Is(err, context.Canceled) {
		t.Fatalf("cancel: %v", err)
	}
	select {
	case herr := <-ended:
		if !errors.Is(herr, context.Canceled) {
			t.Fatalf("handler saw %v, want Canceled (from the cancel frame)", herr)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("handler never saw the cancel")
	}
}

func TestServerCallsClient(t *testing.T) {
	leaktest.Check(t)
	srv := &ipc.Server{Router: ipc.NewRouter(), Secret: secret, Name: "bot"}
	url := startServer(t, srv)
	cr := ipc.NewRouter()
	must(t, cr.HandleFunc("hello", func(ctx context.Context, req *ipc.Request) (any, error) {
		// The handler can call back the server that called it.
		var n int
		if err := req.Caller.Call(ctx, "missing", nil, &n); !errors.Is(err, ipc.ErrUnknownRoute) {
			return nil, fmt.Errorf("callback: %v", err)
		}
		return "hello from dash, asked by " + req.Peer, nil
	}))
	dial(t, ipc.ClientConfig{URL: url, Identifier: "dash", Router: cr})
	ctx := ctxTimeout(t, 5*time.Second)

	got, err := ipc.CallAs[string](ctx, srv.Client("dash"), "hello", nil)
	if err != nil || got != "hello from dash, asked by bot" {
		t.Fatalf("server→client: %q, %v", got, err)
	}
	if err := srv.Call(ctx, "ghost", "hello", nil, nil); !errors.Is(err, ipc.ErrUnknownClient) {
		t.Fatalf("unknown client: %v", err)
	}
	if ids := srv.Clients(); len(ids) != 1 || ids[0] != "dash" {
		t.Fatalf("Clients = %v", ids)
	}
}

func TestBroadcastPartialResults(t *testing.T) {
	leaktest.Check(t)
	srv := &ipc.Server{Secret: secret, PingInterval: -1}
	url := startServer(t, srv)
	for _, id := range []string{"fast-1", "fast-2"} {
		r := ipc.NewRouter()
		must(t, r.Handle("stats", ipc.Func(func(ctx context.Context, _ struct{}) (string, error) { return id + " ok", nil })))
		dial(t, ipc.ClientConfig{URL: url, Identifier: id, Router: r})
	}
	slow := ipc.NewRouter()
	must(t, slow.HandleFunc("stats", func(ctx context.Context, req *ipc.Request) (any, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	}))
	dial(t, ipc.ClientConfig{URL: url, Identifier: "slow", Router: slow})
	// A client that completed the handshake and then went silent: it never
	// reads or answers again.
	helloed(t, url, "dead")
	waitFor(t, 5*time.Second, "4 clients", func() bool { return len(srv.Clients()) == 4 })

	// The deadline is what the slow and the dead client cost; it is long
	// enough that the fast ones answer in time on a loaded machine.
	start := time.Now()
	ctx := ctxTimeout(t, time.Second)
	res := srv.Broadcast(ctx, "stats", nil)
	took := time.Since(start)
	if took > 5*time.Second {
		t.Fatalf("Broadcast took %v with a 1 s deadline", took)
	}
	byID := map[string]ipc.Result{}
	for _, r := range res {
		byID[r.Client] = r
	}
	if len(res) != 4 || string(byID["fast-1"].Data) != `"fast-1 ok"` || string(byID["fast-2"].Data) != `"fast-2 ok"` {
		t.Fatalf("results: %+v", res)
	}
	for _, id := range []string{"slow", "dead"} {
		if !errors.Is(byID[id].Err, ipc.ErrTimeout) {
			t.Fatalf("%s: %v, want timeout", id, byID[id].Err)
		}
	}
}

func TestKeepaliveDropsVanishedPeer(t *testing.T) {
	leaktest.Check(t)
	const interval = 200 * time.Millisecond
	srv := &ipc.Server{Secret: secret, PingInterval: interval, PingMisses: 2}
	url := startServer(t, srv)
	rc := helloed(t, url, "ghost") // never answers pings: the data just stops
	_ = rc
	waitFor(t, 2*time.Second, "connect", func() bool { return len(srv.Clients()) == 1 })
	start := time.Now()
	ctx := ctxTimeout(t, 5*time.Second)
	errc := make(chan error, 1)
	go func() { errc <- srv.Call(ctx, "ghost", "anything", nil, nil) }()
	err := <-errc
	took := time.Since(start)
	if !errors.Is(err, ipc.ErrConnectionLost) {
		t.Fatalf("pending call on a vanished peer: %v", err)
	}
	// Slack for scheduling on a loaded machine, smaller than one interval so
	// that a detection one interval late still fails.
	if limit := interval * 3; took > limit+interval*9/10 {
		t.Fatalf("detected after %v; want within interval×(misses+1) = %v", took, limit)
	}
	if len(srv.Clients()) != 0 {
		t.Fatalf("vanished client still listed: %v", srv.Clients())
	}
}

func TestAuthAndIdentity(t *testing.T) {
	leaktest.Check(t)
	url := startServer(t, &ipc.Server{Secret: secret})
	ctx := ctxTimeout(t, 5*time.Second)
	if _, err := ipc.Dial(ctx, ipc.ClientConfig{URL: url, Secret: "wrong"}); !errors.Is(err, ipc.ErrUnauthorized) {
		t.Fatalf("wrong secret: %v", err)
	}
	dial(t, ipc.ClientConfig{URL: url, Identifier: "one"})
	if _, err := ipc.Dial(ctx, ipc.ClientConfig{URL: url, Secret: secret, Identifier: "one"}); !errors.Is(err, ipc.ErrDuplicateIdentifier) {
		t.Fatalf("duplicate identifier: %v", err)
	}
}

func TestReplaceDuplicates(t *testing.T) {
	leaktest.Check(t)
	srv := &ipc.Server{Secret: secret, ReplaceDuplicates: true}
	url := startServer(t, srv)
	old := helloed(t, url, "one")
	dial(t, ipc.ClientConfig{URL: url, Identifier: "one"})
	old.expectClose(4102)
	if ids := srv.Clients(); len(ids) != 1 {
		t.Fatalf("Clients = %v", ids)
	}
}

func TestHooks(t *testing.T) {
	leaktest.Check(t)
	var mu sync.Mutex
	var events []string
	hooks := &ipc.Hooks{
		OnRequest: func(ctx context.Context, req *ipc.Request) {
			mu.Lock()
			events = append(events, "request "+req.Route+" "+string(req.Args))
			mu.Unlock()
		},
		OnComplete: func(ctx context.Context, req *ipc.Request, took time.Duration, err error) {
			mu.Lock()
			events = append(events, fmt.Sprintf("complete %s err=%v", req.Route, err != nil))
			mu.Unlock()
		},
		OnError: func(ctx context.Context, req *ipc.Request, err error) {
			mu.Lock()
			events = append(events, "error "+req.Route)
			mu.Unlock()
		},
	}
	url := startServer(t, &ipc.Server{Router: testRouter(t, nil), Secret: secret, Hooks: hooks})
	c := dial(t, ipc.ClientConfig{URL: url})
	ctx := ctxTimeout(t, 5*time.Second)
	must(t, c.Call(ctx, "add", addArgs{1, 2}, nil))
	c.Call(ctx, "panic", nil, nil)
	mu.Lock()
	defer mu.Unlock()
	want := `request add {"A":1,"B":2}|complete add err=false|request panic null|error panic|complete panic err=true`
	if got := strings.Join(events, "|"); got != want {
		t.Fatalf("hooks:\n got %s\nwant %s", got, want)
	}
}

func TestReconnectAfterServerRestart(t *testing.T) {
	leaktest.Check(t)
	var runs atomic.Int32
	router := func() *ipc.Router {
		r := ipc.NewRouter()
		must(t, r.HandleFunc("count", func(ctx context.Context, req *ipc.Request) (any, error) {
			return runs.Add(1), nil
		}))
		must(t, r.Handle("sleep", sleepHandler))
		return r
	}
	arrived := make(chan string, 10)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	addr := ln.Addr().String()
	srv1 := &ipc.Server{Router: router(), Secret: secret, Hooks: arrivals(arrived)}
	done1 := make(chan error, 1)
	go func() { done1 <- srv1.Serve(ln) }()
	c := dial(t, ipc.ClientConfig{URL: "ws://" + addr, MinBackoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond})
	ctx := ctxTimeout(t, 10*time.Second)
	must(t, c.Call(ctx, "count", nil, nil))

	// A call in flight when the server goes away fails; it is never re-sent.
	inflight := make(chan error, 1)
	go func() { inflight <- c.Call(ctx, "sleep", map[string]int{"MS": 5000}, nil) }()
	for <-arrived != "sleep" {
	}
	sctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	srv1.Shutdown(sctx)
	cancel()
	<-done1
	if err := <-inflight; !errors.Is(err, ipc.ErrShuttingDown) && !errors.Is(err, ipc.ErrConnectionLost) {
		t.Fatalf("in-flight call during restart: %v", err)
	}

	// While the server is down, a call waits for the connection until its
	// own deadline, then fails typed.
	short, cancelShort := context.WithTimeout(context.Background(), 100*time.Millisecond)
	err = c.Call(short, "count", nil, nil)
	cancelShort()
	if !errors.Is(err, ipc.ErrNotConnected) {
		t.Fatalf("call while down: %v", err)
	}

	ln2, err := net.Listen("tcp", addr)
	must(t, err)
	serveOn(t, &ipc.Server{Router: router(), Secret: secret}, ln2)
	n, err := ipc.CallAs[int](ctx, c, "count", nil)
	if err != nil {
		t.Fatalf("after restart: %v", err)
	}
	if n != 2 || runs.Load() != 2 {
		t.Fatalf("count ran %d times, want 2 (no duplicate execution)", runs.Load())
	}
}

func TestShutdown(t *testing.T) {
	leaktest.Check(t)
	ended := make(chan error, 1)
	arrived := make(chan string, 2)
	srv := &ipc.Server{Router: testRouter(t, ended), Secret: secret, Hooks: arrivals(arrived)}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	c := dial(t, ipc.ClientConfig{URL: "ws://" + ln.Addr().String()})
	ctx := ctxTimeout(t, 10*time.Second)

	finishes := make(chan error, 1)
	go func() { finishes <- c.Call(ctx, "sleep", map[string]int{"MS": 100}, nil) }()
	cut := make(chan error, 1)
	go func() { cut <- c.Call(ctx, "block", nil, nil) }()
	<-arrived
	<-arrived

	sctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if err := srv.Shutdown(sctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown = %v, want DeadlineExceeded (one handler outlived it)", err)
	}
	if err := <-finishes; err != nil {
		t.Fatalf("call that fits in the grace period: %v", err)
	}
	if err := <-cut; !errors.Is(err, ipc.ErrShuttingDown) {
		t.Fatalf("call cut by shutdown: %v", err)
	}
	if err := <-done; !errors.Is(err, ipc.ErrClosed) {
		t.Fatalf("Serve = %v", err)
	}
	<-ended
}
