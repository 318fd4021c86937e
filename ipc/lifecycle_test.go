package ipc_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"syscall"
	"testing"
	"time"

	"github.com/ipcord/ipcord/internal/leaktest"
	"github.com/ipcord/ipcord/internal/wsproto"
	"github.com/ipcord/ipcord/ipc"
)

// restartable serves dialectRouter on one address, and can stop and start
// again there, as a restarted Python bot or dashboard would.
type restartable struct {
	t    *testing.T
	addr string
	srv  *ipc.Server
	done chan error
}

func newRestartable(t *testing.T) *restartable {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &restartable{t: t, addr: ln.Addr().String()}
	r.serve(ln)
	t.Cleanup(r.stop)
	return r
}

func (r *restartable) url() string { return "ws://" + r.addr }

func (r *restartable) serve(ln net.Listener) {
	r.srv = &ipc.Server{Router: dialectRouter(r.t, nil), Secret: secret}
	r.done = make(chan error, 1)
	go func(srv *ipc.Server, done chan error) { done <- srv.Serve(ln) }(r.srv, r.done)
}

func (r *restartable) stop() {
	if r.srv == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	r.srv.Shutdown(ctx)
	<-r.done
	r.srv = nil
}

func (r *restartable) start() {
	var ln net.Listener
	var err error
	// The port was just ours: retry briefly should the kernel still hold it.
	for deadline := time.Now().Add(5 * time.Second); ; {
		if ln, err = net.Listen("tcp", r.addr); err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err != nil {
		r.t.Fatal(err)
	}
	r.serve(ln)
}

// eachDialect runs f once per dialect against a restartable server, with
// a client config for it that reconnects fast.
func eachDialect(t *testing.T, f func(t *testing.T, r *restartable, cfg ipc.ClientConfig)) {
	for _, d := range []ipc.Dialect{ipc.Native, ipc.ExtIPC, ipc.BetterIPC, ipc.Zonis} {
		name := string(d)
		if d == ipc.Native {
			name = "native"
		}
		t.Run(name, func(t *testing.T) {
			leaktest.Check(t)
			r := newRestartable(t)
			f(t, r, ipc.ClientConfig{URL: r.url(), Dialect: d, MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond})
		})
	}
}

// connectLazily reports whether a dialect's client connects only when a
// call needs it, so only a call notices that the server is gone.
func connectLazily(d ipc.Dialect) bool { return d == ipc.ExtIPC || d == ipc.BetterIPC }

func mustHello(t *testing.T, ctx context.Context, c *ipc.Client) {
	t.Helper()
	if err := c.Call(ctx, "hello", nil, nil); err != nil {
		t.Fatal(err)
	}
}

// A Client says where its connection stands, and Close ends it for good:
// State, Done and Err agree, and calls after it fail with ErrClosed.
func TestClientLifecycle(t *testing.T) {
	eachDialect(t, func(t *testing.T, r *restartable, cfg ipc.ClientConfig) {
		c := dial(t, cfg)
		ctx := ctxTimeout(t, 5*time.Second)
		mustHello(t, ctx, c)
		if s := c.State(); s != ipc.StateConnected || c.Err() != nil {
			t.Fatalf("after a call: %v, %v", s, c.Err())
		}
		r.stop()
		if connectLazily(cfg.Dialect) {
			short, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
			c.Call(short, "hello", nil, nil)
			cancel()
		}
		waitFor(t, 5*time.Second, "StateConnecting", func() bool { return c.State() == ipc.StateConnecting })
		select {
		case <-c.Done():
			t.Fatal("Done closed while reconnecting")
		default:
		}
		c.Close()
		select {
		case <-c.Done():
		case <-time.After(5 * time.Second):
			t.Fatal("Done not closed after Close")
		}
		if s, err := c.State(), c.Err(); s != ipc.StateClosed || !errors.Is(err, ipc.ErrClosed) {
			t.Fatalf("after Close: %v, %v", s, err)
		}
		if err := c.Call(ctx, "hello", nil, nil); !errors.Is(err, ipc.ErrClosed) {
			t.Fatalf("call after Close: %v", err)
		}
	})
}

// While its server is down, a call waits for the client to reconnect until
// its deadline, on every dialect as on the native protocol.
func TestCallWaitsForServerRestart(t *testing.T) {
	eachDialect(t, func(t *testing.T, r *restartable, cfg ipc.ClientConfig) {
		c := dial(t, cfg)
		ctx := ctxTimeout(t, 10*time.Second)
		mustHello(t, ctx, c)
		r.stop()
		got := make(chan error, 1)
		go func() {
			var hi string
			err := c.Call(ctx, "hello", nil, &hi)
			if err == nil && hi != "hi" {
				err = errors.New("wrong answer " + hi)
			}
			got <- err
		}()
		// The call is waiting, the server still down.
		select {
		case err := <-got:
			t.Fatalf("the call returned while the server was down: %v", err)
		case <-time.After(300 * time.Millisecond):
		}
		r.start()
		if err := <-got; err != nil {
			t.Fatalf("the call did not wait for the server: %v", err)
		}
	})
}

// ClientConfig.MaxReconnects: after that many failed attempts in a row the
// client gives up and is closed, with ErrGaveUp; zero keeps trying.
func TestClientGivesUp(t *testing.T) {
	eachDialect(t, func(t *testing.T, r *restartable, cfg ipc.ClientConfig) {
		forever := dial(t, cfg)
		cfg.MaxReconnects = 3
		capped := dial(t, cfg)
		ctx := ctxTimeout(t, 10*time.Second)
		mustHello(t, ctx, forever)
		mustHello(t, ctx, capped)
		r.stop()
		var err error
		if connectLazily(cfg.Dialect) {
			// These connect when a call needs it: the call sees the end.
			err = capped.Call(ctx, "hello", nil, nil)
			forever.Call(ctxTimeout(t, 100*time.Millisecond), "hello", nil, nil)
		}
		select {
		case <-capped.Done():
		case <-time.After(5 * time.Second):
			t.Fatal("the capped client did not give up")
		}
		if !connectLazily(cfg.Dialect) {
			err = capped.Call(ctx, "hello", nil, nil)
		}
		if !errors.Is(err, ipc.ErrGaveUp) || !errors.Is(capped.Err(), ipc.ErrGaveUp) || capped.State() != ipc.StateClosed {
			t.Fatalf("capped: call %v, Err %v, state %v; want ErrGaveUp and closed", err, capped.Err(), capped.State())
		}
		if forever.State() == ipc.StateClosed || forever.Err() != nil {
			t.Fatalf("MaxReconnects 0 gave up: %v", forever.Err())
		}
		r.start()
		if err := forever.Call(ctx, "hello", nil, nil); err != nil {
			t.Fatalf("the uncapped client after the restart: %v", err)
		}
	})
}

// Server.Disconnect closes a client's connection by its identifier, as
// Zonis's Server.disconnect does: native, Zonis, and better-ipc by its ID.
func TestServerDisconnect(t *testing.T) {
	leaktest.Check(t)
	srv, u, _ := dialectServer(t, func(s *ipc.Server) { s.PingInterval = 0 })
	ctx := ctxTimeout(t, 10*time.Second)
	block := ipc.NewRouter()
	arrived := make(chan struct{}, 1)
	block.HandleFunc("block", func(ctx context.Context, req *ipc.Request) (any, error) {
		arrived <- struct{}{}
		<-ctx.Done()
		return nil, ctx.Err()
	})
	native := dial(t, ipc.ClientConfig{URL: u, Identifier: "dash", Router: block, MinBackoff: time.Millisecond})
	zonis := dial(t, ipc.ClientConfig{URL: u, Dialect: ipc.Zonis, Identifier: "bot", MinBackoff: time.Millisecond})
	waitFor(t, 5*time.Second, "both clients", func() bool { return len(srv.Clients()) == 2 })

	// The server's call to a client it disconnects fails, typed.
	call := make(chan error, 1)
	go func() { call <- srv.Call(ctx, "dash", "block", nil, nil) }()
	<-arrived
	if err := srv.Disconnect("dash"); err != nil {
		t.Fatal(err)
	}
	if err := <-call; !errors.Is(err, ipc.ErrConnectionLost) {
		t.Fatalf("the call to the disconnected client: %v", err)
	}
	if err := srv.Disconnect("bot"); err != nil {
		t.Fatal(err)
	}
	// Both reconnect by themselves, as Zonis's clients do.
	for _, c := range []*ipc.Client{native, zonis} {
		waitFor(t, 5*time.Second, "a reconnection", func() bool { return c.Call(ctx, "hello", nil, nil) == nil })
	}

	bi := plainDial(t, u, http.Header{"ID": {"dash-2"}})
	bi.send(`{"endpoint": "hello", "secret": "s3cret", "kwargs": {}}`)
	if m, err := bi.next(5 * time.Second); err != nil || m.Op != wsproto.OpText {
		t.Fatalf("better-ipc: %v", err)
	}
	if err := srv.Disconnect("dash-2"); err != nil {
		t.Fatal(err)
	}
	for {
		m, err := bi.next(5 * time.Second)
		if err != nil {
			t.Fatalf("better-ipc connection not closed: %v", err)
		}
		if m.Op == wsproto.OpClose {
			if m.CloseCode != wsproto.CloseNormal {
				t.Fatalf("better-ipc closed with %d", m.CloseCode)
			}
			break
		}
	}
	if err := srv.Disconnect("nobody"); !errors.Is(err, ipc.ErrUnknownClient) {
		t.Fatalf("unknown identifier: %v", err)
	}
}

// ClientConfig.FailFast: with no server there, Dial returns at once with
// ErrUnreachable and the network's reason, where it otherwise waits for
// its deadline; a client that connected still rides out a restart.
func TestDialFailFast(t *testing.T) {
	eachDialect(t, func(t *testing.T, r *restartable, cfg ipc.ClientConfig) {
		r.stop()
		start := time.Now()
		waiting := cfg
		_, err := ipc.Dial(ctxTimeout(t, 300*time.Millisecond), waiting)
		if took := time.Since(start); !errors.Is(err, ipc.ErrNotConnected) || took < 300*time.Millisecond {
			t.Fatalf("Dial without FailFast: %v after %v; want ErrNotConnected at the deadline", err, took)
		}

		cfg.FailFast = true
		start = time.Now()
		_, err = ipc.Dial(ctxTimeout(t, 30*time.Second), cfg)
		var op *net.OpError
		if took := time.Since(start); !errors.Is(err, ipc.ErrUnreachable) || !errors.Is(err, syscall.ECONNREFUSED) ||
			!errors.As(err, &op) || took > 10*time.Second {
			t.Fatalf("Dial with FailFast: %v after %v; want ErrUnreachable and ECONNREFUSED at once", err, took)
		}

		r.start()
		c := dial(t, cfg)
		ctx := ctxTimeout(t, 10*time.Second)
		mustHello(t, ctx, c)
		r.stop()
		if connectLazily(cfg.Dialect) {
			short, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
			c.Call(short, "hello", nil, nil)
			cancel()
		}
		waitFor(t, 5*time.Second, "StateConnecting", func() bool { return c.State() == ipc.StateConnecting })
		r.start()
		mustHello(t, ctx, c)
	})
}

// Dial refuses a URL it cannot connect to, saying so.
func TestDialBadURL(t *testing.T) {
	for _, u := range []string{"http://127.0.0.1:1", "ws://", "::not a url", "127.0.0.1:80"} {
		if _, err := ipc.Dial(ctxTimeout(t, 5*time.Second), ipc.ClientConfig{URL: u}); !errors.Is(err, ipc.ErrBadURL) {
			t.Errorf("Dial(%q) = %v, want ErrBadURL", u, err)
		}
	}
}

// A multicast client connects per call: with FailFast, a call that finds
// no server fails at once as Dial would have.
func TestFailFastMulticast(t *testing.T) {
	leaktest.Check(t)
	r := newRestartable(t)
	r.stop()
	for _, failFast := range []bool{false, true} {
		c := dial(t, ipc.ClientConfig{URL: r.url(), Dialect: ipc.BetterIPCMulticast, FailFast: failFast, MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond})
		deadline := 300 * time.Millisecond
		if failFast {
			deadline = 30 * time.Second
		}
		start := time.Now()
		err := c.Call(ctxTimeout(t, deadline), "hello", nil, nil)
		took := time.Since(start)
		if failFast && (!errors.Is(err, ipc.ErrUnreachable) || !errors.Is(err, syscall.ECONNREFUSED) || took > 10*time.Second) {
			t.Errorf("FailFast: %v after %v; want ErrUnreachable at once", err, took)
		}
		if !failFast && (!errors.Is(err, ipc.ErrNotConnected) || took < 300*time.Millisecond) {
			t.Errorf("without FailFast: %v after %v; want ErrNotConnected at the deadline", err, took)
		}
	}
}
