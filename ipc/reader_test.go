package ipc_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ipcord/ipcord/internal/leaktest"
	"github.com/ipcord/ipcord/ipc"
)

// These tests cover who reads a native connection (conn_read.go): a call
// that finds nobody reading reads the socket itself until its reply comes,
// dispatching whatever else arrives, then hands the reading on.

// gates returns a route "gate" whose calls each wait for their own
// release (by args {"k": key}) and a function releasing key; arrived
// gets each key once its call runs on the server.
func gates(t *testing.T, r *ipc.Router) (release func(key string), arrived chan string) {
	var mu sync.Mutex
	open := map[string]chan struct{}{}
	gate := func(key string) chan struct{} {
		mu.Lock()
		defer mu.Unlock()
		if open[key] == nil {
			open[key] = make(chan struct{})
		}
		return open[key]
	}
	arrived = make(chan string, 16)
	must(t, r.HandleFunc("gate", func(ctx context.Context, req *ipc.Request) (any, error) {
		var a struct{ K string }
		if err := req.Decode(&a); err != nil {
			return nil, err
		}
		arrived <- a.K
		select {
		case <-gate(a.K):
			return a.K, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}))
	return func(key string) { close(gate(key)) }, arrived
}

// arrivalsOf is arrivals for one route's requests only.
func arrivalsOf(route string, ch chan<- string) *ipc.Hooks {
	return &ipc.Hooks{OnRequest: func(ctx context.Context, req *ipc.Request) {
		if req.Route == route {
			ch <- req.Route
		}
	}}
}

// warm makes one call, after which the client's read loop has left the
// reading to the calls: the next call reads its reply itself.
func warm(t *testing.T, ctx context.Context, c *ipc.Client) {
	t.Helper()
	if err := c.Call(ctx, "echo", nil, nil); err != nil {
		t.Fatal(err)
	}
}

// readingCall starts calls with start until one is the one reading the
// socket once its request runs on the server (the read loop takes the
// reading back when the calls pause for long, which a loaded machine may
// make them do); end finishes a call that was not. It returns the call's
// result channel.
func readingCall(t *testing.T, ctx context.Context, c *ipc.Client, start func() chan error, end func(chan error)) chan error {
	t.Helper()
	for range 50 {
		// After a request from the server, the loop keeps the reading.
		time.Sleep(ipc.ServingQuiet * 3 / 2)
		warm(t, ctx, c)
		done := start()
		reads := false
		for deadline := time.Now().Add(time.Second); !reads && time.Now().Before(deadline); {
			if reads = ipc.CallReads(c); !reads {
				time.Sleep(time.Millisecond)
			}
		}
		if reads {
			return done
		}
		end(done)
	}
	t.Fatal("no call ever read the socket itself")
	return nil
}

// Many callers, some one call at a time and some in bursts, some giving
// up early; then the same while the server calls the client's own route:
// every reply reaches its own call, and every call of the server is
// answered.
func TestReadPathKeepsEveryReply(t *testing.T) {
	leaktest.Check(t)
	r := testRouter(t, nil)
	srv := &ipc.Server{Router: r, Secret: secret}
	u := startServer(t, srv)
	cr := ipc.NewRouter()
	must(t, cr.HandleFunc("twice", func(ctx context.Context, req *ipc.Request) (any, error) {
		var n int
		if err := req.Decode(&n); err != nil {
			return nil, err
		}
		return 2 * n, nil
	}))
	c := dial(t, ipc.ClientConfig{URL: u, Identifier: "reader", Router: cr})
	ctx := ctxTimeout(t, 60*time.Second)

	var failures atomic.Int32
	fail := func(format string, args ...any) {
		if failures.Add(1) <= 5 {
			t.Errorf(format, args...)
		}
	}
	caller := func(g int) {
		rng := rand.New(rand.NewPCG(uint64(g), 1))
		for i := range 150 {
			want := fmt.Sprintf("g%d-%d", g, i)
			switch rng.IntN(6) {
			case 0: // a slow one
				if _, err := ipc.CallAs[map[string]int](ctx, c, "sleep", map[string]int{"MS": rng.IntN(3)}); err != nil {
					fail("sleep: %v", err)
				}
			case 1: // one given up before its reply can come
				cctx, cancel := context.WithTimeout(ctx, time.Duration(rng.IntN(300))*time.Microsecond)
				got, err := ipc.CallAs[string](cctx, c, "echo", want)
				cancel()
				if err == nil && got != want {
					fail("echo (given up): got %q, want %q", got, want)
				} else if err != nil && !errors.Is(err, ipc.ErrTimeout) {
					fail("echo (given up): %v, want a reply or ErrTimeout", err)
				}
			default:
				got, err := ipc.CallAs[string](ctx, c, "echo", want)
				if err != nil || got != want {
					fail("echo: got %q, %v; want %q", got, err, want)
				}
			}
		}
	}
	serverCalls := func(n int) {
		for i := range n {
			got, err := ipc.CallAs[int](ctx, srv.Client("reader"), "twice", i)
			if err != nil || got != 2*i {
				fail("server → client twice(%d): %d, %v", i, got, err)
			}
		}
	}
	var wg sync.WaitGroup
	for phase := range 2 {
		for g := range 8 {
			wg.Go(func() { caller(8*phase + g) })
		}
		if phase == 1 {
			wg.Go(func() { serverCalls(300) })
		}
		wg.Wait()
	}
	// And once the client's calls have stopped.
	serverCalls(20)
}

// A request from the server that arrives while a call of the client is
// reading is run, even though that call's reply depends on it.
func TestCallReadingServesIncomingRequests(t *testing.T) {
	leaktest.Check(t)
	r := testRouter(t, nil)
	arrived, proceed := make(chan string, 1), make(chan struct{})
	must(t, r.HandleFunc("outer", func(ctx context.Context, req *ipc.Request) (any, error) {
		arrived <- "outer"
		<-proceed
		var s string
		if err := req.Caller.Call(ctx, "inner", nil, &s); err != nil {
			return nil, err
		}
		return "outer+" + s, nil
	}))
	u := startServer(t, &ipc.Server{Router: r, Secret: secret})
	cr := ipc.NewRouter()
	must(t, cr.HandleFunc("inner", func(ctx context.Context, req *ipc.Request) (any, error) { return "inner", nil }))
	c := dial(t, ipc.ClientConfig{URL: u, Router: cr})
	ctx := ctxTimeout(t, 60*time.Second)
	outer := func() chan error {
		done := make(chan error, 1)
		go func() {
			got, err := ipc.CallAs[string](ctx, c, "outer", nil)
			if err == nil && got != "outer+inner" {
				err = fmt.Errorf("got %q", got)
			}
			done <- err
		}()
		<-arrived
		return done
	}
	for range 5 {
		done := readingCall(t, ctx, c, outer, func(done chan error) { proceed <- struct{}{}; <-done })
		proceed <- struct{}{}
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("outer: %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("outer got no reply: the callback it waits for was not served")
		}
	}
}

// A call that reads the socket still ends on its context (canceled, or
// its deadline) or on the client's CallTimeout, tells the server to
// cancel, and hands the reading on: the next call is answered.
func TestCallReadingEndsOnItsContext(t *testing.T) {
	leaktest.Check(t)
	ended := make(chan error, 4)
	arrived := make(chan string, 4)
	r := testRouter(t, nil)
	// hang never answers before the test ends: the client alone ends the
	// call. It reports how its context ended (the cancel frame, or its own
	// deadline).
	testEnd := make(chan struct{})
	must(t, r.HandleFunc("hang", func(ctx context.Context, req *ipc.Request) (any, error) {
		<-ctx.Done()
		ended <- ctx.Err()
		<-testEnd
		return nil, ctx.Err()
	}))
	u := startServer(t, &ipc.Server{Router: r, Secret: secret, Hooks: arrivalsOf("hang", arrived)})
	t.Cleanup(func() { close(testEnd) }) // before the server's shutdown
	c := dial(t, ipc.ClientConfig{URL: u})
	short := dial(t, ipc.ClientConfig{URL: u, CallTimeout: 300 * time.Millisecond})
	ctx := ctxTimeout(t, 60*time.Second)
	handlerEnded := func(what string) {
		t.Helper()
		select {
		case err := <-ended:
			if err == nil {
				t.Fatalf("%s: the handler's context did not end", what)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: the handler never saw the call end", what)
		}
	}
	next := func(c *ipc.Client, what string) {
		t.Helper()
		if n, err := ipc.CallAs[int](ctx, c, "add", addArgs{2, 3}); err != nil || n != 5 {
			t.Fatalf("the call after %s: %d, %v", what, n, err)
		}
	}
	// blocking makes calls of "hang" on c, each with a context from mk,
	// until one reads the socket; the others are ended by their cancel.
	blocking := func(c *ipc.Client, mk func() (context.Context, context.CancelFunc)) (chan error, context.CancelFunc) {
		var cancel context.CancelFunc
		done := readingCall(t, ctx, c, func() chan error {
			var cctx context.Context
			cctx, cancel = mk()
			done := make(chan error, 1)
			go func() { done <- c.Call(cctx, "hang", nil, nil) }()
			<-arrived
			return done
		}, func(done chan error) {
			cancel()
			<-done
			handlerEnded("a call the loop read for")
		})
		return done, cancel
	}

	done, cancel := blocking(c, func() (context.Context, context.CancelFunc) { return context.WithCancel(ctx) })
	began := time.Now()
	cancel()
	if err := <-done; !errors.Is(err, ipc.ErrCanceled) || !errors.Is(err, context.Canceled) {
		t.Fatalf("canceled: %v", err)
	}
	if took := time.Since(began); took > 3*time.Second {
		t.Fatalf("the canceled call returned after %v", took)
	}
	handlerEnded("cancel")
	next(c, "a cancel")

	for _, k := range []struct {
		what string
		c    *ipc.Client
		ctx  func() (context.Context, context.CancelFunc)
	}{
		{"a deadline", c, func() (context.Context, context.CancelFunc) { return context.WithTimeout(ctx, 300*time.Millisecond) }},
		{"CallTimeout", short, func() (context.Context, context.CancelFunc) { return context.WithCancel(context.Background()) }},
	} {
		done, cancel := blocking(k.c, k.ctx)
		var err error
		select {
		case err = <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: the call did not end", k.what)
		}
		cancel()
		if !errors.Is(err, ipc.ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("%s: %v", k.what, err)
		}
		handlerEnded(k.what)
		next(k.c, k.what)
	}
}

// The reading passes from call to call: whichever of two calls gets its
// reply first, or gives up first, the other still gets its own.
func TestReadingPassesBetweenCalls(t *testing.T) {
	leaktest.Check(t)
	r := testRouter(t, nil)
	release, arrived := gates(t, r)
	u := startServer(t, &ipc.Server{Router: r, Secret: secret})
	c := dial(t, ipc.ClientConfig{URL: u})
	ctx := ctxTimeout(t, 60*time.Second)

	call := func(ctx context.Context, key string) chan error {
		done := make(chan error, 1)
		go func() {
			got, err := ipc.CallAs[string](ctx, c, "gate", map[string]string{"K": key})
			if err == nil && got != key {
				err = fmt.Errorf("got %q", got)
			}
			done <- err
		}()
		if k := <-arrived; k != key {
			t.Errorf("%s arrived, want %s", k, key)
		}
		return done
	}
	finished := func(done chan error, key string) {
		t.Helper()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("%s: %v", key, err)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: no reply", key)
		}
	}
	n := 0
	// first starts a call that reads the socket, with its own context.
	first := func(ctx context.Context) (chan error, string) {
		var key string
		done := readingCall(t, ctx, c, func() chan error {
			n++
			key = fmt.Sprintf("a%d", n)
			return call(ctx, key)
		}, func(done chan error) {
			release(key)
			finished(done, key)
		})
		return done, key
	}

	// The first reads, the second waits; the first's reply comes first.
	a, ka := first(ctx)
	b := call(ctx, "b1")
	release(ka)
	finished(a, ka)
	release("b1")
	finished(b, "b1")

	// The same, with the second's reply first.
	a, ka = first(ctx)
	b = call(ctx, "b2")
	release("b2")
	finished(b, "b2")
	release(ka)
	finished(a, ka)

	// The first gives up.
	actx, cancel := context.WithCancel(ctx)
	defer cancel()
	a, _ = first(actx)
	b = call(ctx, "b3")
	cancel()
	if err := <-a; !errors.Is(err, ipc.ErrCanceled) {
		t.Fatalf("the first call, canceled: %v, want ErrCanceled", err)
	}
	release("b3")
	finished(b, "b3")
}

// Between calls nobody may read for a moment: a request from the server,
// its pings and its close are still answered.
func TestIdleClientStillReads(t *testing.T) {
	leaktest.Check(t)
	const interval = 50 * time.Millisecond
	srv := &ipc.Server{Router: testRouter(t, nil), Secret: secret, PingInterval: interval, PingMisses: 2}
	u := startServer(t, srv)
	cr := ipc.NewRouter()
	must(t, cr.HandleFunc("hi", func(ctx context.Context, req *ipc.Request) (any, error) { return "hi", nil }))
	c := dial(t, ipc.ClientConfig{URL: u, Identifier: "idle", Router: cr, PingInterval: -1})
	ctx := ctxTimeout(t, 20*time.Second)
	for range 10 {
		warm(t, ctx, c)
		start := time.Now()
		got, err := ipc.CallAs[string](ctx, srv.Client("idle"), "hi", nil)
		if err != nil || got != "hi" {
			t.Fatalf("server → idle client: %q, %v", got, err)
		}
		if took := time.Since(start); took > 2*time.Second {
			t.Fatalf("the server's call waited %v", took)
		}
	}
	// Calls now and then for 10 ping intervals: the client answers every
	// ping, so the server keeps it.
	warm(t, ctx, c)
	for end := time.Now().Add(10 * interval); time.Now().Before(end); {
		time.Sleep(interval / 3)
		warm(t, ctx, c)
	}
	time.Sleep(3 * interval)
	if n := srv.Connections(); n != 1 || c.State() != ipc.StateConnected {
		t.Fatalf("after pings between calls: %d connections, client %v", n, c.State())
	}
	// The server closes: the idle client answers the close (Disconnect
	// gives up waiting for that after a second) and reconnects.
	start := time.Now()
	if err := srv.Disconnect("idle"); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took >= time.Second {
		t.Fatalf("the idle client did not answer the server's close (%v)", took)
	}
	waitFor(t, 5*time.Second, "the client to reconnect", func() bool { return srv.Connections() == 1 && c.State() == ipc.StateConnected })
	warm(t, ctx, c)
}

// Close ends a call that is reading the socket, at once.
func TestCloseEndsCallReading(t *testing.T) {
	leaktest.Check(t)
	arrived := make(chan string, 4)
	u := startServer(t, &ipc.Server{Router: testRouter(t, nil), Secret: secret, Hooks: arrivalsOf("block", arrived)})
	c := dial(t, ipc.ClientConfig{URL: u})
	ctx := ctxTimeout(t, 60*time.Second)
	var cancel context.CancelFunc
	done := readingCall(t, ctx, c, func() chan error {
		var cctx context.Context
		cctx, cancel = context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- c.Call(cctx, "block", nil, nil) }()
		<-arrived
		return done
	}, func(done chan error) { cancel(); <-done })
	defer cancel()
	start := time.Now()
	c.Close()
	if err := <-done; !errors.Is(err, ipc.ErrConnectionLost) {
		t.Fatalf("call cut by Close: %v", err)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Fatalf("Close and the call took %v", took)
	}
	var raw json.RawMessage
	if err := c.Call(ctx, "echo", nil, &raw); !errors.Is(err, ipc.ErrClosed) {
		t.Fatalf("after Close: %v", err)
	}
}
