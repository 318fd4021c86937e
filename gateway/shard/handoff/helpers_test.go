package handoff_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ipcord/ipcord/discordtest"
	"github.com/ipcord/ipcord/gateway"
	"github.com/ipcord/ipcord/gateway/shard"
	"github.com/ipcord/ipcord/gateway/shard/handoff"
	"github.com/ipcord/ipcord/ipc"
)

const secret = "handoff-secret"

// world is a fake Discord and a journal of every event any Manager of the
// test handled, in the order handled.
type world struct {
	g      *discordtest.Gateway
	shards int
	skew   atomic.Int64 // added to the fake's clock, to pass its 5 s identify rule at once

	mu      sync.Mutex
	handled map[int][]handledEvent
	changed chan struct{}
}

type handledEvent struct {
	seq  int64
	name string
	gen  int
}

func newWorld(t *testing.T, shards int, mod func(*discordtest.Gateway)) *world {
	t.Helper()
	w := &world{shards: shards, handled: map[int][]handledEvent{}, changed: make(chan struct{})}
	w.g = &discordtest.Gateway{
		HeartbeatInterval: time.Second, Shards: shards, MaxConcurrency: shards,
		Now: func() time.Time { return time.Now().Add(time.Duration(w.skew.Load())) },
	}
	if mod != nil {
		mod(w.g)
	}
	if err := w.g.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.g.Close() })
	return w
}

func (w *world) handler(gen int) shard.Handler {
	return func(ctx context.Context, ev shard.Event) {
		w.mu.Lock()
		w.handled[ev.Shard] = append(w.handled[ev.Shard], handledEvent{ev.Seq, ev.Name, gen})
		close(w.changed)
		w.changed = make(chan struct{})
		w.mu.Unlock()
	}
}

// manager runs a Manager of generation gen over ids (none: an empty
// slice) until the test ends.
func (w *world) manager(t *testing.T, gen int, ids []int) *shard.Manager {
	t.Helper()
	m, err := shard.NewManager(shard.ManagerConfig{
		ShardCount: w.shards, MaxConcurrency: w.shards, Shards: ids, IdentifyInterval: time.Millisecond,
		Shard: shard.Config{
			Gateway: gateway.Config{Token: "token", URL: w.g.URL()},
			Handler: w.handler(gen),
			Backoff: shard.Backoff{Base: 10 * time.Millisecond, Max: 100 * time.Millisecond, Min: time.Millisecond},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- m.Run(context.Background()) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := m.Close(ctx, true); err != nil {
			t.Errorf("closing generation %d: %v", gen, err)
		}
		if err := <-done; err != nil {
			t.Errorf("generation %d: Run: %v", gen, err)
		}
	})
	return m
}

// serve serves src's routes on an ipc server with the test's secret.
func serve(t *testing.T, src *handoff.Source) string {
	t.Helper()
	r := ipc.NewRouter()
	if err := src.Register(r); err != nil {
		t.Fatal(err)
	}
	return serveRouter(t, r)
}

func serveRouter(t *testing.T, r *ipc.Router) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &ipc.Server{Router: r, Secret: secret}
	go srv.Serve(ln)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	return "ws://" + ln.Addr().String()
}

func dial(t *testing.T, url string) *ipc.Client {
	t.Helper()
	c, err := ipc.Dial(ctxT(t, 5*time.Second), ipc.ClientConfig{URL: url, Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// traffic dispatches to the shards in turn, one every gap, until stop.
func (w *world) traffic(t *testing.T, gap time.Duration) (stop func()) {
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(gap)
		defer tick.Stop()
		for n := 0; ; n++ {
			select {
			case <-quit:
				return
			case <-tick.C:
			}
			// A shard whose session is being replaced has none for a moment.
			if _, err := w.g.Dispatch(n%w.shards, "MESSAGE_CREATE", map[string]int{"n": n}); err != nil && !errors.Is(err, discordtest.ErrNoSession) {
				t.Error(err)
				return
			}
		}
	}()
	var once sync.Once
	stop = func() { once.Do(func() { close(quit); <-done }) }
	t.Cleanup(stop)
	return stop
}

// settle sends a last event to every shard and waits until each was
// handled.
func (w *world) settle(t *testing.T) {
	t.Helper()
	want := map[int]int64{}
	for sh := range w.shards {
		// A shard whose session a fault just ended (INVALID_SESSION
		// d:false) can still report ready: wait for its new one.
		if _, err := w.g.WaitSession(ctxT(t, 15*time.Second), sh); err != nil {
			t.Fatalf("shard %d: no session: %v", sh, err)
		}
		seq, err := w.g.Dispatch(sh, "MARKER", map[string]int{})
		if err != nil {
			t.Fatalf("shard %d: %v", sh, err)
		}
		want[sh] = seq
	}
	w.waitFor(t, 15*time.Second, func() string {
		for sh, seq := range want {
			h := w.handled[sh]
			if len(h) == 0 || h[len(h)-1].seq < seq {
				return fmt.Sprintf("shard %d has not handled seq %d", sh, seq)
			}
		}
		return ""
	})
}

// waitFor polls cond (called with w.mu held) until it returns "".
func (w *world) waitFor(t *testing.T, timeout time.Duration, cond func() string) {
	t.Helper()
	deadline := time.After(timeout)
	for {
		w.mu.Lock()
		why := cond()
		ch := w.changed
		w.mu.Unlock()
		if why == "" {
			return
		}
		select {
		case <-ch:
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			t.Fatalf("after %v: %s", timeout, why)
		}
	}
}

// check asserts every shard handled each seq of its session exactly once,
// up to the fake's last: 1..N with no gap and no repeat. A READY starts a
// new session (after INVALID_SESSION d:false) and counts sessions.
func (w *world) check(t *testing.T) (sessions map[int]int) {
	t.Helper()
	// A reconnect just before settle's marker may still be delivering its
	// RESUMED.
	w.waitFor(t, 10*time.Second, func() string {
		for sh := range w.shards {
			h := w.handled[sh]
			info, ok := w.g.Session(sh)
			if !ok || len(h) == 0 || h[len(h)-1].seq != info.Seq {
				return fmt.Sprintf("shard %d: handled %d events, the gateway is at %+v", sh, len(h), info)
			}
		}
		return ""
	})
	w.mu.Lock()
	defer w.mu.Unlock()
	sessions = map[int]int{}
	for sh := range w.shards {
		var last int64
		for i, h := range w.handled[sh] {
			if h.name == "READY" {
				sessions[sh]++
				if h.seq != 1 {
					t.Errorf("shard %d: READY at seq %d", sh, h.seq)
				}
				last = 0
			}
			if h.seq != last+1 {
				t.Errorf("shard %d: event %d (gen %d, %s) has seq %d after %d", sh, i, h.gen, h.name, h.seq, last)
			}
			last = h.seq
		}
		info, ok := w.g.Session(sh)
		if !ok || info.Seq != last {
			t.Errorf("shard %d: handled up to %d, the gateway is at %d (session %v)", sh, last, info.Seq, ok)
		}
	}
	return sessions
}

// gens returns the generations that handled shard sh's events, in order.
func (w *world) gens(sh int) []int {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []int
	for _, h := range w.handled[sh] {
		if len(out) == 0 || out[len(out)-1] != h.gen {
			out = append(out, h.gen)
		}
	}
	return out
}

// identifies counts the IDENTIFYs the fake received.
func (w *world) identifies() int {
	return w.g.CountReceived(func(r discordtest.Received) bool { return r.Op == 2 })
}

// waitRunning waits until m runs every shard of ids and each is ready.
func waitRunning(t *testing.T, m *shard.Manager, n int) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		st := m.Status()
		ready := 0
		for _, s := range st {
			if s.State == shard.StateReady {
				ready++
			}
		}
		if ready == n && len(st) == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d shards ready: %+v", ready, n, st)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func ctxT(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
