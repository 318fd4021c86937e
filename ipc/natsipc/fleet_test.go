package natsipc_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/ipcord/ipcord/discordtest"
	"github.com/ipcord/ipcord/gateway"
	"github.com/ipcord/ipcord/gateway/shard"
	"github.com/ipcord/ipcord/gateway/shard/handoff"
	"github.com/ipcord/ipcord/internal/leaktest"
	"github.com/ipcord/ipcord/ipc"
	"github.com/ipcord/ipcord/ipc/natsipc"
)

// fleetWorld is a fake Discord, a nats-server, and the journal of every
// event any member handled.
type fleetWorld struct {
	g      *discordtest.Gateway
	url    string
	shards int

	mu      sync.Mutex
	handled map[int][]int64
}

type member struct {
	name   string
	node   *natsipc.Node
	m      *shard.Manager
	fleet  *natsipc.Fleet
	cancel context.CancelFunc
	done   chan struct{}
}

func (w *fleetWorld) join(t *testing.T, name string) *member {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	nc := connect(t, w.url)
	lim, err := natsipc.NewIdentifyLimiter(ctx, nc, natsipc.LimiterConfig{MaxConcurrency: w.shards, Interval: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	mb := &member{name: name, cancel: cancel, done: make(chan struct{})}
	m, err := shard.NewManager(shard.ManagerConfig{
		ShardCount: w.shards, MaxConcurrency: w.shards, Shards: []int{},
		Shard: shard.Config{
			Gateway:  gateway.Config{Token: "token", URL: w.g.URL()},
			Identify: lim,
			Backoff:  shard.Backoff{Base: 10 * time.Millisecond, Max: 100 * time.Millisecond},
			Handler: func(ctx context.Context, ev shard.Event) {
				w.mu.Lock()
				w.handled[ev.Shard] = append(w.handled[ev.Shard], ev.Seq)
				w.mu.Unlock()
				if mb.fleet != nil {
					mb.fleet.Handled()
				}
			},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	mb.m = m
	src := &handoff.Source{Manager: m}
	r := ipc.NewRouter()
	if err := src.Register(r); err != nil {
		t.Fatal(err)
	}
	node, err := natsipc.New(nc, fast(name, r))
	if err != nil {
		t.Fatal(err)
	}
	f, err := natsipc.NewFleet(ctx, natsipc.FleetConfig{Name: "test", Node: node, Manager: m, Source: src, LeaseTTL: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	mb.fleet, mb.node = f, node
	go m.Run(ctx)
	go func() { defer close(mb.done); f.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-mb.done
		m.Close(context.Background(), false)
		node.Close()
	})
	return mb
}

// crash stops a member as kill -9 would as far as the fleet can tell: no
// leave, no handoff, no last checkpoint, its node gone.
func (mb *member) crash() {
	mb.cancel()
	<-mb.done
	mb.node.Close()
	mb.m.Close(context.Background(), false)
}

func (w *fleetWorld) owned(ms ...*member) map[int]int {
	out := map[int]int{}
	for _, m := range ms {
		for _, id := range m.m.Shards() {
			out[id]++
		}
	}
	return out
}

func waitOwned(t *testing.T, w *fleetWorld, what string, ms ...*member) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		o := w.owned(ms...)
		ok := len(o) == w.shards
		for _, n := range o {
			ok = ok && n == 1
		}
		ready := true
		for _, m := range ms {
			// Balanced: every member holds its share, give or take one.
			if n := len(m.m.Shards()); n < w.shards/len(ms) || n > (w.shards+len(ms)-1)/len(ms) {
				ready = false
			}
			for _, st := range m.m.Status() {
				ready = ready && st.State == shard.StateReady
			}
		}
		if ok && ready {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: owners %v", what, o)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// check reads the journal: per shard, no seq skipped, and the repeats.
func (w *fleetWorld) check(t *testing.T) (repeats map[int]int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		w.mu.Lock()
		behind := ""
		for sh := range w.shards {
			h := w.handled[sh]
			info, _ := w.g.Session(sh)
			if len(h) == 0 || h[len(h)-1] != info.Seq {
				behind = fmt.Sprintf("shard %d behind the gateway's %d", sh, info.Seq)
			}
		}
		w.mu.Unlock()
		if behind == "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal(behind)
		}
		time.Sleep(20 * time.Millisecond)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	repeats = map[int]int{}
	for sh := range w.shards {
		seen := map[int64]bool{}
		var max int64
		for _, seq := range w.handled[sh] {
			if seen[seq] {
				repeats[sh]++
			}
			seen[seq] = true
			if seq > max {
				max = seq
			}
		}
		for seq := int64(1); seq <= max; seq++ {
			if !seen[seq] {
				t.Errorf("shard %d: seq %d lost", sh, seq)
			}
		}
	}
	return repeats
}

// Three members share six shards; one leaves gracefully (its shards move
// by handoff: nothing lost, nothing repeated, no IDENTIFY), one dies (the
// last one resumes its shards from their checkpoints: nothing lost, a few
// repeats, no IDENTIFY), and a new member gets its share back by handoff.
func TestFleet(t *testing.T) {
	leaktest.Check(t)
	const shards = 6
	srv := startServer(t, 0, "")
	w := &fleetWorld{shards: shards, url: srv.ClientURL(), handled: map[int][]int64{}}
	w.g = &discordtest.Gateway{HeartbeatInterval: time.Second, Shards: shards, MaxConcurrency: shards}
	if err := w.g.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.g.Close() })
	a, b, c := w.join(t, "a"), w.join(t, "b"), w.join(t, "c")
	waitOwned(t, w, "three members", a, b, c)
	identifies := func() int {
		n := 0
		for _, r := range w.g.Received() {
			if r.Op == 2 {
				n++
			}
		}
		return n
	}
	if n := identifies(); n != shards {
		t.Fatalf("%d IDENTIFYs to start %d shards", n, shards)
	}
	stop := make(chan struct{})
	var traffic sync.WaitGroup
	traffic.Add(1)
	go func() {
		defer traffic.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(time.Millisecond):
			}
			w.g.Dispatch(i%shards, "MESSAGE_CREATE", map[string]int{"n": i})
		}
	}()
	defer func() {
		select {
		case <-stop:
		default:
			close(stop)
		}
		traffic.Wait()
	}()

	if err := c.fleet.Leave(ctxT(t, 20*time.Second)); err != nil {
		t.Fatal(err)
	}
	c.crash() // it holds nothing: the process exits
	waitOwned(t, w, "after c left", a, b)
	close(stop)
	traffic.Wait()
	if r := w.check(t); len(r) != 0 {
		t.Errorf("repeats after a graceful leave: %v", r)
	}

	stop = make(chan struct{})
	traffic.Add(1)
	go func() {
		defer traffic.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(time.Millisecond):
			}
			w.g.Dispatch(i%shards, "MESSAGE_CREATE", map[string]int{"n": i})
		}
	}()
	time.Sleep(300 * time.Millisecond) // events flow and checkpoints follow
	b.crash()
	waitOwned(t, w, "after b died", a)
	d := w.join(t, "d")
	waitOwned(t, w, "after d joined", a, d)
	if n := len(d.m.Shards()); n != shards/2 {
		t.Errorf("d holds %d shards", n)
	}
	close(stop)
	traffic.Wait()
	repeats := w.check(t)
	t.Logf("repeats after the crash: %v", repeats)
	for sh, n := range repeats {
		if n > natsipc.DefaultCheckpointEvents {
			t.Errorf("shard %d: %d repeats, more than a checkpoint's %d events", sh, n, natsipc.DefaultCheckpointEvents)
		}
	}
	if n := identifies(); n != shards {
		t.Errorf("%d IDENTIFYs after the first %d", n-shards, shards)
	}
}

func ctxT(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
