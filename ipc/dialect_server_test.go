package ipc_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ipcord/ipcord/internal/leaktest"
	"github.com/ipcord/ipcord/internal/wsproto"
	"github.com/ipcord/ipcord/ipc"
)

// gateRouter's "gate" route blocks until release is closed, counting the
// handlers running at once.
func gateRouter(t *testing.T, running, peak *atomic.Int32, release chan struct{}, canceled chan<- struct{}) *ipc.Router {
	r := ipc.NewRouter()
	err := r.HandleFunc("gate", func(ctx context.Context, req *ipc.Request) (any, error) {
		n := running.Add(1)
		defer running.Add(-1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		select {
		case <-release:
			return req.Args, nil
		case <-ctx.Done():
			if canceled != nil {
				canceled <- struct{}{}
			}
			return nil, ctx.Err()
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// gate is a server of gateRouter: its "gate" handlers block until
// release is closed.
type gate struct {
	srv           *ipc.Server
	url           string
	running, peak atomic.Int32
	release       chan struct{}
}

func startGate(t *testing.T) *gate {
	g := &gate{release: make(chan struct{})}
	g.srv = &ipc.Server{Router: gateRouter(t, &g.running, &g.peak, g.release, nil), Secret: secret}
	g.url = startServer(t, g.srv)
	return g
}

// zonisBot connects a raw Zonis client identified as id, past its IDENTIFY.
func zonisBot(t *testing.T, u, id string) *rawClient {
	t.Helper()
	bot := plainDial(t, u, nil)
	bot.send(`{"packet_id": "01", "type": "request", "data": {"identifier": "` + id + `", "type": "IDENTIFY", "data": {"secret_key": "s3cret", "override_key": null}}}`)
	if m, err := bot.nextData(5 * time.Second); err != nil || m.Op != wsproto.OpText {
		t.Fatalf("identify: %v %v", m.Op, err)
	}
	return bot
}

// beginShutdown starts srv.Shutdown, bounded by d, and returns once it
// has begun (the server at u stopped listening); the channel gets its
// result.
func beginShutdown(t *testing.T, srv *ipc.Server, u string, d time.Duration) <-chan error {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), d)
		defer cancel()
		done <- srv.Shutdown(ctx)
	}()
	waitFor(t, 5*time.Second, "Shutdown to begin", shutdownBegun(u))
	return done
}

func TestExtIPCRunsEightAtOnceRepliesInOrder(t *testing.T) {
	leaktest.Check(t)
	g := startGate(t)
	pc := plainDial(t, g.url, nil)
	const n = 12
	for i := range n {
		pc.send(fmt.Sprintf(`{"endpoint": "gate", "data": {"i": %d}, "headers": {"Authorization": %q}}`, i, secret))
	}
	waitFor(t, 5*time.Second, "8 handlers to run at once", func() bool { return g.running.Load() == 8 })
	close(g.release)
	for i := range n {
		m, err := pc.next(5 * time.Second)
		if err != nil || m.Op != wsproto.OpText {
			t.Fatalf("reply %d: %v %v", i, m.Op, err)
		}
		var got struct{ I int }
		if err := json.Unmarshal(m.Payload, &got); err != nil || got.I != i {
			t.Fatalf("reply %d is %s: out of order", i, m.Payload)
		}
	}
	if p := g.peak.Load(); p != 8 {
		t.Fatalf("peak concurrency %d, want 8", p)
	}
}

func TestDialectShutdownLetsHandlersFinish(t *testing.T) {
	leaktest.Check(t)
	g := startGate(t)
	ext := plainDial(t, g.url, nil)
	ext.send(`{"endpoint": "gate", "data": {"i": 1}, "headers": {"Authorization": "s3cret"}}`)
	zon := zonisBot(t, g.url, "bot")
	zon.send(`{"packet_id": "02", "type": "request", "data": {"identifier": "bot", "type": "CLIENT_REQUEST", "data": {"route": "gate", "arguments": {"i": 2}}}}`)
	waitFor(t, 5*time.Second, "both handlers to run", func() bool { return g.running.Load() == 2 })

	// Shutdown waits for the handlers: release them, then each client gets
	// its reply before the close.
	done := beginShutdown(t, g.srv, g.url, 5*time.Second)
	close(g.release)
	for _, c := range []*rawClient{ext, zon} {
		m, err := c.nextData(5 * time.Second)
		if err != nil || m.Op != wsproto.OpText {
			t.Fatalf("reply before close: %v %v", m.Op, err)
		}
		m, err = c.next(5 * time.Second)
		if err != nil || m.Op != wsproto.OpClose || m.CloseCode != wsproto.CloseGoingAway {
			t.Fatalf("want close 1001, got %v %d %v", m.Op, m.CloseCode, err)
		}
		c.nc.Close()
	}
	if err := <-done; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
}

// A client that goes away cancels the handlers it started.
func TestDialectDisconnectCancelsHandlers(t *testing.T) {
	for name, frames := range map[string][]string{
		"extipc": {`{"endpoint": "gate", "data": {}, "headers": {"Authorization": "s3cret"}}`},
		"better": {`{"endpoint": "gate", "secret": "s3cret", "kwargs": {}}`},
		"zonis": {
			`{"packet_id": "01", "type": "request", "data": {"identifier": "bot", "type": "IDENTIFY", "data": {"secret_key": "s3cret", "override_key": null}}}`,
			`{"packet_id": "02", "type": "request", "data": {"identifier": "bot", "type": "CLIENT_REQUEST", "data": {"route": "gate", "arguments": {}}}}`,
		},
	} {
		t.Run(name, func(t *testing.T) {
			leaktest.Check(t)
			var running, peak atomic.Int32
			canceled := make(chan struct{}, 1)
			srv := &ipc.Server{Router: gateRouter(t, &running, &peak, make(chan struct{}), canceled), Secret: secret}
			u := startServer(t, srv)
			pc := plainDial(t, u, nil)
			for _, f := range frames {
				pc.send(f)
			}
			waitFor(t, 5*time.Second, "the handler to run", func() bool { return running.Load() == 1 })
			pc.nc.Close()
			select {
			case <-canceled:
			case <-time.After(5 * time.Second):
				t.Fatal("the handler's context did not end when the client left")
			}
		})
	}
}

// Hooks see dialect requests as they see native ones.
func TestDialectHooks(t *testing.T) {
	leaktest.Check(t)
	var mu sync.Mutex
	var seen []string
	hooks := &ipc.Hooks{OnComplete: func(ctx context.Context, req *ipc.Request, took time.Duration, err error) {
		mu.Lock()
		seen = append(seen, fmt.Sprintf("%s:%v", req.Route, err != nil))
		mu.Unlock()
	}}
	_, u, _ := dialectServer(t, func(s *ipc.Server) { s.Hooks = hooks })
	pc := plainDial(t, u, nil)
	pc.send(`{"endpoint": "/hello", "data": {}, "headers": {"Authorization": "s3cret"}}`)
	pc.send(`{"endpoint": "fail", "data": {}, "headers": {"Authorization": "s3cret"}}`)
	for range 2 {
		if _, err := pc.next(5 * time.Second); err != nil {
			t.Fatal(err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	slices.Sort(seen)
	if len(seen) != 2 || seen[0] != "fail:true" || seen[1] != "hello:false" {
		t.Fatalf("hooks saw %v", seen)
	}
}

// A better-ipc client that reconnects with its ID replaces its old
// connection, which might otherwise linger half-open; other IDs stay.
func TestBetterIPCSameIDReplacesOldConnection(t *testing.T) {
	leaktest.Check(t)
	_, u, _ := dialectServer(t, nil)
	req := `{"endpoint": "hello", "secret": "s3cret", "kwargs": {}}`
	open := func(id string) *rawClient {
		pc := plainDial(t, u, http.Header{"ID": {id}})
		pc.send(req)
		if m, err := pc.next(5 * time.Second); err != nil || m.Op != wsproto.OpText {
			t.Fatalf("%s: %v %v", id, m.Op, err)
		}
		return pc
	}
	old := open("dash")
	other := open("other")
	open("dash")
	if m, err := old.next(5 * time.Second); err == nil {
		t.Fatalf("old connection still open: got %v", m.Op)
	}
	other.send(req)
	if m, err := other.next(5 * time.Second); err != nil || m.Op != wsproto.OpText {
		t.Fatalf("another ID was disturbed: %v %v", m.Op, err)
	}
}

// Shutdown returns only once every call running when it began has had its
// reply written, on every dialect: the replies arrive before the close.
func TestShutdownDrainsEveryDialect(t *testing.T) {
	leaktest.Check(t)
	g := startGate(t)
	u := g.url
	const n = 20
	var raws []*rawClient
	for i := range n {
		ext := plainDial(t, u, nil)
		ext.send(fmt.Sprintf(`{"endpoint": "gate", "data": {"i": %d}, "headers": {"Authorization": %q}}`, i, secret))
		better := plainDial(t, u, http.Header{"ID": {fmt.Sprint("dash-", i)}})
		better.send(fmt.Sprintf(`{"endpoint": "gate", "secret": %q, "kwargs": {"i": %d}}`, secret, i))
		raws = append(raws, ext, better)
	}
	// One ext-ipc connection with a full pipeline: its replies wait for
	// each other, in order.
	pipe := plainDial(t, u, nil)
	for i := range 8 {
		pipe.send(fmt.Sprintf(`{"endpoint": "gate", "data": {"i": %d}, "headers": {"Authorization": %q}}`, i, secret))
	}
	zon := zonisBot(t, u, "bot")
	for i := range n {
		zon.send(fmt.Sprintf(`{"packet_id": "p%d", "type": "request", "data": {"identifier": "bot", "type": "CLIENT_REQUEST", "data": {"route": "gate", "arguments": {"i": %d}}}}`, i, i))
	}
	c := dial(t, ipc.ClientConfig{URL: u})
	native := make(chan error, n)
	for i := range n {
		go func() { native <- c.Call(ctxTimeout(t, 10*time.Second), "gate", map[string]int{"i": i}, nil) }()
	}
	total := int32(2*n + 8 + n + n)
	waitFor(t, 10*time.Second, "every handler to run", func() bool { return g.running.Load() == total })

	done := beginShutdown(t, g.srv, u, 10*time.Second)
	close(g.release)

	replies := func(pc *rawClient, want int, what string) {
		t.Helper()
		for i := range want {
			m, err := pc.nextData(5 * time.Second)
			if err != nil || m.Op != wsproto.OpText {
				t.Fatalf("%s: reply %d of %d lost: got %v (close %d) %v", what, i+1, want, m.Op, m.CloseCode, err)
			}
			if !json.Valid(m.Payload) || strings.Contains(string(m.Payload), "shutting") || strings.Contains(string(m.Payload), `"code": 500`) {
				t.Fatalf("%s: reply %d is %s, want the handler's result", what, i+1, m.Payload)
			}
		}
		m, err := pc.next(5 * time.Second)
		if err != nil || m.Op != wsproto.OpClose || m.CloseCode != wsproto.CloseGoingAway {
			t.Fatalf("%s: want close 1001 after the replies, got %v %d %v", what, m.Op, m.CloseCode, err)
		}
	}
	for i, pc := range raws {
		replies(pc, 1, []string{"ext-ipc", "better-ipc"}[i%2])
	}
	replies(pipe, 8, "ext-ipc pipeline")
	replies(zon, n, "zonis")
	for range n {
		if err := <-native; err != nil {
			t.Fatalf("native call: %v", err)
		}
	}
	if err := <-done; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
}

// A finished handler is not a delivered reply: on an id-less dialect a
// reply waits for the ones before it, here one that a slow reader takes
// its time over. Shutdown waits for the reply itself.
func TestShutdownWaitsForQueuedReplies(t *testing.T) {
	for name, frames := range map[string][]string{
		"extipc": {`{"endpoint": "big", "data": {}, "headers": {"Authorization": "s3cret"}}`, `{"endpoint": "hello", "data": {}, "headers": {"Authorization": "s3cret"}}`},
		"better": {`{"endpoint": "big", "secret": "s3cret", "kwargs": {}}`, `{"endpoint": "hello", "secret": "s3cret", "kwargs": {}}`},
	} {
		t.Run(name, func(t *testing.T) {
			leaktest.Check(t)
			r := ipc.NewRouter()
			big := strings.Repeat("x", 16<<20) // more than the socket buffers hold
			var ran atomic.Int32
			r.HandleFunc("big", func(context.Context, *ipc.Request) (any, error) { ran.Add(1); return big, nil })
			r.HandleFunc("hello", func(context.Context, *ipc.Request) (any, error) { ran.Add(1); return "hi", nil })
			srv := &ipc.Server{Router: r, Secret: secret, MaxMessage: 32 << 20}
			u := startServer(t, srv)
			pc := plainDial(t, u, http.Header{"ID": {"slow"}})
			pc.dec.MaxMessage = 64 << 20
			for _, f := range frames {
				pc.send(f)
			}
			// Both handlers finish at once; the second reply waits behind
			// the first, which waits for this peer to read.
			waitFor(t, 5*time.Second, "both handlers to run", func() bool { return ran.Load() == 2 })
			done := beginShutdown(t, srv, u, 10*time.Second)
			for i := range 2 {
				m, err := pc.next(10 * time.Second)
				if err != nil || m.Op != wsproto.OpText {
					t.Fatalf("reply %d lost: got %v (close %d) %v", i+1, m.Op, m.CloseCode, err)
				}
			}
			if m, err := pc.next(5 * time.Second); err != nil || m.Op != wsproto.OpClose {
				t.Fatalf("want the close after both replies, got %v %v", m.Op, err)
			}
			if err := <-done; err != nil {
				t.Fatalf("Shutdown: %v", err)
			}
		})
	}
}

// shutdownBegun reports whether the server at u has stopped listening, as
// it does as soon as Shutdown begins.
func shutdownBegun(u string) func() bool {
	return func() bool {
		nc, err := net.DialTimeout("tcp", strings.TrimPrefix(u, "ws://"), time.Second)
		if err == nil {
			nc.Close()
		}
		return err != nil
	}
}

// Dialect requests carry no deadline: they get the Server's DialectTimeout,
// and the peer the dialect's own form of a timeout.
func TestDialectTimeout(t *testing.T) {
	leaktest.Check(t)
	_, u, _ := dialectServer(t, func(s *ipc.Server) { s.DialectTimeout = 100 * time.Millisecond })
	for _, tc := range []struct{ name, req, want string }{
		{"extipc", `{"endpoint": "slow", "data": {"MS": 60000}, "headers": {"Authorization": "s3cret"}}`,
			`{"error": "IPC route raised error of type Timeout", "code": 500}`},
		{"better", `{"endpoint": "slow", "secret": "s3cret", "kwargs": {"MS": 60000}}`,
			`{"decoding": null, "code": 500, "response": null, "error": "Unexpected error occurred while calling the route!", "error_details": "timeout"}`},
	} {
		pc := plainDial(t, u, nil)
		start := time.Now()
		pc.send(tc.req)
		m, err := pc.next(10 * time.Second)
		if err != nil || m.Op != wsproto.OpText || !(vars{}).match(decodeAny(t, 0, tc.want), decodeAny(t, 0, string(m.Payload))) {
			t.Fatalf("%s: got %q %v, want %s", tc.name, m.Payload, err, tc.want)
		}
		if took := time.Since(start); took > 5*time.Second {
			t.Fatalf("%s: answered after %v", tc.name, took)
		}
	}
	zon := zonisBot(t, u, "bot")
	zon.send(`{"packet_id": "02", "type": "request", "data": {"identifier": "bot", "type": "CLIENT_REQUEST", "data": {"route": "slow", "arguments": {"MS": 60000}}}}`)
	for {
		m, err := zon.next(10 * time.Second)
		if err != nil {
			t.Fatalf("zonis: %v", err)
		}
		if m.Op != wsproto.OpText {
			continue
		}
		if !strings.Contains(string(m.Payload), `"FAILURE_RESPONSE"`) || !strings.Contains(string(m.Payload), `"timeout: `) {
			t.Fatalf("zonis: got %s, want a FAILURE_RESPONSE for the timeout", m.Payload)
		}
		break
	}
}
