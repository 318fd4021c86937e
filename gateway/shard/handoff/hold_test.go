package handoff_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ipcord/ipcord/gateway"
	"github.com/ipcord/ipcord/gateway/shard"
	"github.com/ipcord/ipcord/gateway/shard/handoff"
	"github.com/ipcord/ipcord/internal/leaktest"
	"github.com/ipcord/ipcord/ipc"
)

// cutCaller is a successor's channel to the Source that breaks once k
// commits were answered: the next call runs cut (once) and from then on
// every call fails as a lost connection does.
type cutCaller struct {
	c   *ipc.Client
	k   int
	cut func()

	mu      sync.Mutex
	commits int
	broken  bool
}

func (c *cutCaller) Call(ctx context.Context, route string, args, out any) error {
	c.mu.Lock()
	if !c.broken && c.commits >= c.k {
		c.broken = true
		c.c.Close()
		if c.cut != nil {
			c.cut()
		}
	}
	broken := c.broken
	c.mu.Unlock()
	if broken {
		return fmt.Errorf("%w: cut by the test", ipc.ErrConnectionLost)
	}
	err := c.c.Call(ctx, route, args, out)
	if err == nil && route == handoff.RouteCommit {
		c.mu.Lock()
		c.commits++
		c.mu.Unlock()
	}
	return err
}

// checkNoGaps asserts every shard handled each seq up to the fake's last,
// none skipped: an event may be handled again (a repeat), but only by the
// source (generation 0) and only one the successor (generation 1) had
// handled. It returns the repeats.
func (w *world) checkNoGaps(t *testing.T) (repeats int) {
	t.Helper()
	w.mu.Lock()
	defer w.mu.Unlock()
	for sh := range w.shards {
		var last int64
		by := map[int64]int{} // the generation that handled each seq first
		for i, h := range w.handled[sh] {
			switch {
			case h.seq == last+1:
				by[h.seq] = h.gen
			case h.seq <= last && h.gen == 0 && by[h.seq] == 1:
				repeats++
			default:
				t.Errorf("shard %d: event %d (gen %d, %s) has seq %d after %d", sh, i, h.gen, h.name, h.seq, last)
				return repeats
			}
			last = max(last, h.seq)
		}
		if info, ok := w.g.Session(sh); !ok || info.Seq != last || info.Conn == 0 {
			t.Errorf("shard %d: handled up to %d, the gateway is at %+v (session %v)", sh, last, info, ok)
		}
	}
	return repeats
}

// takeOverCut runs a takeover of every shard by a successor whose channel
// breaks after k commits, cut running at that moment, while events flow.
// It returns the source's Manager and the world, once the source runs
// every shard again and the traffic stopped.
func takeOverCut(t *testing.T, k int, successor func(w *world) *shard.Manager, cut func(*shard.Manager)) (*world, *shard.Manager, *shard.Manager, error) {
	const shards = 4
	w := newWorld(t, shards, nil)
	old := w.manager(t, 0, nil)
	waitRunning(t, old, shards)
	stop := w.traffic(t, time.Millisecond)
	src := &handoff.Source{Manager: old, HoldTimeout: time.Second}
	url := serve(t, src)
	next := successor(w)
	cc := &cutCaller{c: dial(t, url), k: k, cut: func() { cut(next) }}
	moved, err := handoff.TakeOver(ctxT(t, 20*time.Second), cc, next, nil)
	if len(moved) != 0 {
		t.Errorf("TakeOver reports %d shards moved: %+v", len(moved), moved)
	}
	waitRunning(t, old, shards)
	src.Wait()
	stop()
	if got := next.Shards(); len(got) != 0 {
		t.Errorf("the successor still runs %v", got)
	}
	select {
	case <-src.Emptied():
		t.Error("the source says it is empty")
	default:
	}
	return w, old, next, err
}

// A successor killed after committing 2 of 4 shards: the source, which
// kept their sessions, resumes them when the takeover's renewals stop.
// Every shard ends with the source, no IDENTIFY, no seq skipped; the
// events the successor handled are handled again.
func TestSuccessorDiesAfterCommits(t *testing.T) {
	leaktest.Check(t)
	var done chan error
	w, _, _, _ := takeOverCut(t, 2, func(w *world) *shard.Manager {
		m, err := shard.NewManager(shard.ManagerConfig{
			ShardCount: w.shards, MaxConcurrency: w.shards, Shards: []int{}, IdentifyInterval: time.Millisecond,
			Shard: shard.Config{
				Gateway: gateway.Config{Token: "token", URL: w.g.URL()},
				Handler: w.handler(1),
				Backoff: shard.Backoff{Base: 10 * time.Millisecond, Max: 100 * time.Millisecond, Min: time.Millisecond},
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		done = make(chan error, 1)
		go func() { done <- m.Run(context.Background()) }()
		return m
	}, func(m *shard.Manager) {
		// The successor dies: its connections drop, with no handoff.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := m.Close(ctx, false); err != nil {
			t.Errorf("closing the successor: %v", err)
		}
	})
	if err := <-done; err != nil {
		t.Errorf("the successor's Run: %v", err)
	}
	w.checkTakenBack(t, 2)
}

// checkTakenBack asserts the source (generation 0) handles every shard
// again, with no seq skipped and no IDENTIFY, after the successor
// (generation 1) handled events of at least k shards.
func (w *world) checkTakenBack(t *testing.T, k int) {
	t.Helper()
	w.settle(t)
	repeats := w.checkNoGaps(t)
	t.Logf("%d events handled again", repeats)
	moved := 0
	for sh := range w.shards {
		g := w.gens(sh)
		if g[len(g)-1] != 0 {
			t.Errorf("shard %d was last handled by generation %d", sh, g[len(g)-1])
		}
		if slices.Contains(g, 1) {
			moved++
		}
	}
	if moved < k {
		t.Errorf("the successor handled events of %d shards, want the %d committed at least", moved, k)
	}
	if n := w.identifies(); n != w.shards {
		t.Errorf("%d IDENTIFYs, want the first %d only", n, w.shards)
	}
}

// The successor alive but its channel to the source gone after 2 of 4
// commits: it stops the 2 shards (its renewals go unanswered) and the
// source resumes them; each shard ends owned by the source alone.
func TestSuccessorCutOffAfterCommits(t *testing.T) {
	leaktest.Check(t)
	w, old, next, err := takeOverCut(t, 2, func(w *world) *shard.Manager { return w.manager(t, 1, []int{}) }, func(*shard.Manager) {})
	if !errors.Is(err, handoff.ErrHoldLost) {
		t.Errorf("TakeOver: %v, want ErrHoldLost", err)
	}
	w.checkTakenBack(t, 2)
	if got := old.Shards(); len(got) != w.shards {
		t.Errorf("the source runs %v", got)
	}
	for _, st := range next.Status() {
		t.Errorf("the successor still has shard %d (%v)", st.ID, st.State)
	}
}

// lostFinish is a successor's channel whose finish reaches the Source
// but whose answer is lost, as the Source's process exits.
type lostFinish struct {
	c    *ipc.Client
	exit func()
}

func (l lostFinish) Call(ctx context.Context, route string, args, out any) error {
	err := l.c.Call(ctx, route, args, out)
	if route == handoff.RouteFinish && err == nil {
		l.exit()
		return fmt.Errorf("%w: the answer was lost", ipc.ErrConnectionLost)
	}
	return err
}

// The Source accepted the finish and exited, and its answer was lost: the
// successor finds the Source's address refusing connections and keeps
// the shards rather than hand them back to nobody.
func TestFinishAnswerLost(t *testing.T) {
	leaktest.Check(t)
	const shards = 2
	w := newWorld(t, shards, nil)
	old := w.manager(t, 0, nil)
	waitRunning(t, old, shards)
	stop := w.traffic(t, time.Millisecond)
	src := &handoff.Source{Manager: old, HoldTimeout: 3 * time.Second}
	r := ipc.NewRouter()
	if err := src.Register(r); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &ipc.Server{Router: r, Secret: secret}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	exit := func() {
		<-src.Emptied()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		<-served
	}
	next := w.manager(t, 1, []int{})
	moved, err := handoff.TakeOver(ctxT(t, 20*time.Second), lostFinish{dial(t, "ws://"+ln.Addr().String()), exit}, next, nil)
	if err != nil || len(moved) != shards {
		t.Fatalf("TakeOver: %v, moved %+v", err, moved)
	}
	waitRunning(t, next, shards)
	stop()
	w.settle(t)
	w.check(t)
	for sh := range shards {
		if g := w.gens(sh); !slices.Equal(g, []int{0, 1}) {
			t.Errorf("shard %d was handled by generations %v", sh, g)
		}
	}
	if got := old.Shards(); len(got) != 0 {
		t.Errorf("the source runs %v", got)
	}
	if n := w.identifies(); n != shards {
		t.Errorf("%d IDENTIFYs, want the first %d only", n, shards)
	}
}
