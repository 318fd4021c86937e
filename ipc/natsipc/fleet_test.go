package natsipc_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ipcord/ipcord/discordtest"
	"github.com/ipcord/ipcord/gateway"
	"github.com/ipcord/ipcord/gateway/shard"
	"github.com/ipcord/ipcord/gateway/shard/handoff"
	"github.com/ipcord/ipcord/internal/leaktest"
	"github.com/ipcord/ipcord/ipc"
	"github.com/ipcord/ipcord/ipc/natsipc"
	"github.com/nats-io/nats.go/jetstream"
)

// fleetWorld is a fake Discord, a nats-server, and the journal of every
// event any member handled.
type fleetWorld struct {
	g      *discordtest.Gateway
	url    string
	shards int

	// marks, when set, is every member's FleetConfig.Marks, and each
	// handler marks its event there after handling it; with dedupe and no
	// marks, the world is the Marks, marking each event with its effect.
	marks  *natsipc.KVMarks
	dedupe bool
	// ckpt, when set, is every member's checkpoint interval, in time and
	// events.
	ckpt int
	// stall, when set before the members join, runs in every handler
	// once the event is journaled.
	stall func(member string, ev shard.Event)

	mu      sync.Mutex
	handled map[int][]int64
	last    map[int]natsipc.Mark
	order   []handling // every event handled, in order
}

// handling is one event as handled, and by which member.
type handling struct {
	member string
	shard  int
	seq    int64
}

// Handled implements natsipc.Marks from the journal: the mark is written
// with the effect, in one critical section, as a database transaction
// would.
func (w *fleetWorld) Handled(ctx context.Context, id int) (natsipc.Mark, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.last[id], nil
}

type member struct {
	name   string
	node   *natsipc.Node
	m      *shard.Manager
	fleet  *natsipc.Fleet
	cancel context.CancelFunc
	done   chan struct{}
}

// newFleetWorld starts a nats-server and a fake gateway of shards.
func newFleetWorld(t *testing.T, shards int) *fleetWorld {
	srv := startServer(t, 0, "")
	w := &fleetWorld{shards: shards, url: srv.ClientURL(), handled: map[int][]int64{}}
	w.g = &discordtest.Gateway{HeartbeatInterval: time.Second, Shards: shards, MaxConcurrency: shards}
	if err := w.g.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.g.Close() })
	return w
}

// identifies counts the IDENTIFYs the gateway received.
func (w *fleetWorld) identifies() int {
	return w.g.CountReceived(func(r discordtest.Received) bool { return r.Op == 2 })
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
				w.order = append(w.order, handling{name, ev.Shard, ev.Seq})
				if w.last != nil {
					w.last[ev.Shard] = natsipc.Mark{Session: ev.Session, Seq: ev.Seq}
				}
				w.mu.Unlock()
				if w.marks != nil {
					w.marks.Mark(ctx, ev)
				}
				if mb.fleet != nil {
					mb.fleet.Handled()
				}
				if w.stall != nil {
					w.stall(name, ev)
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
	// Heartbeats slower than fast's: a member the race detector and a
	// busy machine delay is not taken for gone, and its shards pulled.
	cfg := fast(name, r)
	cfg.Heartbeat, cfg.HeartbeatMisses = 100*time.Millisecond, 5
	node, err := natsipc.New(nc, cfg)
	if err != nil {
		t.Fatal(err)
	}
	fc := natsipc.FleetConfig{Name: "test", Node: node, Manager: m, Source: src, LeaseTTL: time.Second}
	if w.ckpt > 0 {
		fc.CheckpointInterval, fc.CheckpointEvents = time.Duration(w.ckpt)*time.Hour, w.ckpt
	}
	switch {
	case w.marks != nil:
		fc.Marks = w.marks
	case w.dedupe:
		fc.Marks = w
	}
	f, err := natsipc.NewFleet(ctx, fc)
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

// traffic dispatches an event every millisecond, round the shards, until
// the returned stop (also called when the test ends).
func (w *fleetWorld) traffic(t *testing.T) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-done:
				return
			case <-time.After(time.Millisecond):
			}
			w.g.Dispatch(i%w.shards, "MESSAGE_CREATE", map[string]int{"n": i})
		}
	})
	stop = sync.OnceFunc(func() { close(done); wg.Wait() })
	t.Cleanup(stop)
	return stop
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

// Three members share seven shards; one leaves gracefully (its shards move
// by handoff: nothing lost, nothing repeated, no IDENTIFY), one dies (the
// last one resumes its shards from their checkpoints: nothing lost, a few
// repeats, no IDENTIFY), and a new member gets its share back by handoff.
func TestFleet(t *testing.T) {
	leaktest.Check(t)
	const shards = 7 // uneven: members end with 2 or 3 shards, then 3 or 4
	w := newFleetWorld(t, shards)
	a, b, c := w.join(t, "a"), w.join(t, "b"), w.join(t, "c")
	waitOwned(t, w, "three members", a, b, c)
	if n := w.identifies(); n != shards {
		t.Fatalf("%d IDENTIFYs to start %d shards", n, shards)
	}
	stop := w.traffic(t)

	if err := c.fleet.Leave(ctxT(t, 20*time.Second)); err != nil {
		t.Fatal(err)
	}
	c.crash() // it holds nothing: the process exits
	waitOwned(t, w, "after c left", a, b)
	stop()
	if r := w.check(t); len(r) != 0 {
		t.Errorf("repeats after a graceful leave: %v", r)
	}

	stop = w.traffic(t)
	// Events flow to b and checkpoints follow them, so that its crash
	// leaves something to resume.
	w.waitHandled(t, b, w.handledBy(b)+100)
	b.crash()
	waitOwned(t, w, "after b died", a)
	d := w.join(t, "d")
	waitOwned(t, w, "after d joined", a, d)
	if n := len(d.m.Shards()); n != shards/2 {
		t.Errorf("d holds %d shards", n)
	}
	stop()
	repeats := w.check(t)
	t.Logf("repeats after the crash: %v", repeats)
	for sh, n := range repeats {
		if n > natsipc.DefaultCheckpointEvents {
			t.Errorf("shard %d: %d repeats, more than a checkpoint's %d events", sh, n, natsipc.DefaultCheckpointEvents)
		}
	}
	if n := w.identifies(); n != shards {
		t.Errorf("%d IDENTIFYs after the first %d", n-shards, shards)
	}
}

// The last member to leave has nobody to hand its shards to: Leave says so
// at once and leaves them checkpointed exactly, so the next member to
// start resumes them with no event lost or repeated and no IDENTIFY.
func TestFleetLastMemberLeaves(t *testing.T) {
	leaktest.Check(t)
	const shards = 3
	w := newFleetWorld(t, shards)
	a := w.join(t, "a")
	waitOwned(t, w, "one member", a)
	stop := w.traffic(t)
	start := time.Now()
	err := a.fleet.Leave(ctxT(t, 20*time.Second))
	if !errors.Is(err, natsipc.ErrFleet) || !strings.Contains(err.Error(), "no other member") {
		t.Fatalf("Leave with nobody to take the shards: %v", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("Leave took %v to see nobody was there", took)
	}
	if n := len(a.m.Shards()); n != 0 {
		t.Fatalf("a still holds %d shards", n)
	}
	a.crash()
	b := w.join(t, "b")
	waitOwned(t, w, "after b started", b)
	stop()
	if r := w.check(t); len(r) != 0 {
		t.Errorf("repeats: %v", r)
	}
	if identifies := w.identifies(); identifies != shards {
		t.Errorf("%d IDENTIFYs after the first %d", identifies-shards, shards)
	}
}

// With dedupe on, a member killed while events flow costs no repeat when
// the marks are written with the handler's effects, and at most one per
// shard with KVMarks, written after them.
func TestFleetDedupe(t *testing.T) {
	leaktest.Check(t)
	for _, tc := range []struct {
		name      string
		kv        bool
		maxRepeat int
	}{{"marks with the effects", false, 0}, {"KVMarks", true, 1}} {
		t.Run(tc.name, func(t *testing.T) {
			const shards = 4
			w := newFleetWorld(t, shards)
			w.last, w.dedupe = map[int]natsipc.Mark{}, true
			if tc.kv {
				var err error
				w.marks, err = natsipc.NewKVMarks(ctxT(t, 10*time.Second), connect(t, w.url), "test")
				if err != nil {
					t.Fatal(err)
				}
			}
			a, b := w.join(t, "a"), w.join(t, "b")
			waitOwned(t, w, "two members", a, b)
			stop := w.traffic(t)
			// Enough events that b's checkpoints lag behind its handler.
			w.waitHandled(t, b, 400)
			b.crash()
			waitOwned(t, w, "after b died", a)
			stop()
			for sh, n := range w.check(t) {
				if n > tc.maxRepeat {
					t.Errorf("shard %d: %d repeats with dedupe, want at most %d", sh, n, tc.maxRepeat)
				}
			}
			if identifies := w.identifies(); identifies != shards {
				t.Errorf("%d IDENTIFYs after the first %d", identifies-shards, shards)
			}
		})
	}
}

// A member whose lease renewals stop (as they do for a process starved of
// CPU or cut from NATS, while its shard still runs) stops the shard before
// its lease can lapse, so that the member taking the shard over is never
// running it at the same time: the fake sees the holder close its own
// connection (4000, a close Discord keeps the session for) instead of
// dropping it for the taker's RESUME, no event is handled by the old
// holder once the new one has handled any, nothing is lost and nothing
// IDENTIFYs again.
func TestFleetFencesLateRenewals(t *testing.T) {
	leaktest.Check(t)
	w := newFleetWorld(t, 1)
	a := w.join(t, "a")
	waitOwned(t, w, "one member", a)
	b := w.join(t, "b") // one shard: a keeps it
	stop := w.traffic(t)
	w.waitHandled(t, a, 50)
	natsipc.PauseRenewals(a.fleet, true)
	paused := time.Now()
	deadline := time.Now().Add(20 * time.Second)
	for len(a.m.Shards()) != 0 || len(b.m.Shards()) != 1 || b.m.Status()[0].State != shard.StateReady {
		if time.Now().After(deadline) {
			t.Fatalf("a runs %v, b runs %v", a.m.Shards(), b.m.Shards())
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Logf("b runs the shard %v after a's renewals stopped", time.Since(paused).Round(time.Millisecond))
	w.waitHandled(t, b, w.handledBy(b)+50)
	stop()
	w.check(t)

	// The taker's RESUME never found a's connection attached.
	resumes, aConn := 0, 0
	for _, r := range w.g.Received() {
		switch r.Op {
		case 2:
			aConn = r.Conn
		case 6:
			resumes++
		}
	}
	if resumes != 1 {
		t.Errorf("%d RESUMEs, want b's one", resumes)
	}
	for _, c := range w.g.Connections() {
		if c.Num == aConn && (c.ClientClose != 4000 || c.ServerClose != 0) {
			t.Errorf("a's connection ended with client close %d, server close %d: want a's own 4000", c.ClientClose, c.ServerClose)
		}
	}
	w.mu.Lock()
	firstB := -1
	for i, h := range w.order {
		if h.member == "b" && firstB < 0 {
			firstB = i
		}
		if h.member == "a" && firstB >= 0 {
			t.Errorf("a handled seq %d after b handled seq %d", h.seq, w.order[firstB].seq)
			break
		}
	}
	w.mu.Unlock()
	if n := w.identifies(); n != 1 {
		t.Errorf("%d IDENTIFYs, want 1", n)
	}
}

// A shard that arrives at a member is checkpointed at once, not at the
// next interval: by handoff, where the giver stopped, before its first
// event here; from an IDENTIFY, once READY is handled. A member that dies
// right after either leaves a checkpoint to resume from, so no IDENTIFY is
// spent again. (The intervals here are hours long: only those first
// checkpoints exist.)
func TestFleetCheckpointsArrivals(t *testing.T) {
	leaktest.Check(t)
	const shards = 2
	w := newFleetWorld(t, shards)
	w.ckpt = 1 << 20
	a := w.join(t, "a")
	waitOwned(t, w, "a alone", a)
	b := w.join(t, "b")
	waitOwned(t, w, "b took its share by handoff", a, b)
	stop := w.traffic(t)
	w.waitHandled(t, b, w.handledBy(b)+20)
	b.crash()
	waitOwned(t, w, "after b died", a)
	w.waitHandled(t, a, w.handledBy(a)+20)
	a.crash()
	c := w.join(t, "c")
	waitOwned(t, w, "after a died", c)
	stop()
	w.check(t)
	if n := w.identifies(); n != shards {
		t.Errorf("%d IDENTIFYs, want the first %d only", n, shards)
	}
}

// A member slow to pull a shard (its giver's handler is busy with an
// event for several lease TTLs, as a pull waiting for an IDENTIFY slot
// is) keeps renewing and checkpointing the shard it already holds: no
// other member takes that shard meanwhile (it would run it at the same
// time, or, had it no checkpoint, IDENTIFY it again) and its checkpoint
// follows its events.
func TestFleetSlowPullKeepsLeases(t *testing.T) {
	leaktest.Check(t)
	const shards = 4
	w := newFleetWorld(t, shards)
	var armed atomic.Bool
	stalled, release := make(chan struct{}), make(chan struct{})
	var stallOnce, releaseOnce sync.Once
	letGo := func() { releaseOnce.Do(func() { close(release) }) }
	w.stall = func(member string, ev shard.Event) {
		if member == "a" && ev.Shard == 2 && armed.Load() {
			stallOnce.Do(func() {
				close(stalled)
				<-release
			})
		}
	}
	a := w.join(t, "a")
	waitOwned(t, w, "a alone", a)
	stop := w.traffic(t)
	kv := checkpoints(t, w)
	for deadline := time.Now().Add(20 * time.Second); checkpointSeq(t, kv, 3) == 0; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("a never checkpointed shard 3")
		}
	}
	armed.Store(true)
	select {
	case <-stalled: // a's handler is busy with an event of shard 2
	case <-time.After(10 * time.Second):
		t.Fatal("shard 2 handled nothing")
	}
	// b takes its two shards from a, highest first: 3 moves at once, 2
	// waits for a's handler.
	b := w.join(t, "b")
	t.Cleanup(letGo) // before the members stop: they wait for the handler
	deadline := time.Now().Add(20 * time.Second)
	for !slices.Contains(b.m.Shards(), 3) || b.m.Shard(3).Status().State != shard.StateReady {
		if time.Now().After(deadline) {
			t.Fatalf("b runs %v", b.m.Shards())
		}
		time.Sleep(10 * time.Millisecond)
	}
	first := checkpointSeq(t, kv, 3)
	// Four lease TTLs while b waits on the pull of shard 2.
	for end := time.Now().Add(4 * time.Second); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		if slices.Contains(a.m.Shards(), 3) {
			t.Fatal("a runs shard 3 again while b runs it")
		}
		if !slices.Contains(b.m.Shards(), 3) {
			t.Fatal("b stopped shard 3")
		}
	}
	if last := checkpointSeq(t, kv, 3); last <= first {
		t.Errorf("shard 3's checkpoint stayed at seq %d while b handled its events", last)
	}
	letGo()
	waitOwned(t, w, "a and b", a, b)
	stop()
	if r := w.check(t); len(r) != 0 {
		t.Errorf("repeats: %v", r)
	}
	if n := w.identifies(); n != shards {
		t.Errorf("%d IDENTIFYs, want the first %d only", n, shards)
	}
}

// checkpoints opens the fleet's checkpoint bucket.
func checkpoints(t *testing.T, w *fleetWorld) jetstream.KeyValue {
	t.Helper()
	js, err := jetstream.New(connect(t, w.url))
	if err != nil {
		t.Fatal(err)
	}
	kv, err := js.KeyValue(ctxT(t, 10*time.Second), "ipcord_ckpt_test")
	if err != nil {
		t.Fatal(err)
	}
	return kv
}

// checkpointSeq reads the seq of shard id's checkpoint, 0 if it has none.
func checkpointSeq(t *testing.T, kv jetstream.KeyValue, id int) int64 {
	t.Helper()
	e, err := kv.Get(ctxT(t, 10*time.Second), fmt.Sprintf("shard.%d", id))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	var cp struct {
		Session gateway.Session `json:"session"`
	}
	if err := json.Unmarshal(e.Value(), &cp); err != nil {
		t.Fatal(err)
	}
	return cp.Session.Seq
}

// handledBy counts the events handled so far on the shards mb holds.
func (w *fleetWorld) handledBy(mb *member) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for _, id := range mb.m.Shards() {
		n += len(w.handled[id])
	}
	return n
}

// waitHandled waits until the shards mb holds have handled n events.
func (w *fleetWorld) waitHandled(t *testing.T, mb *member, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for got := w.handledBy(mb); got < n; got = w.handledBy(mb) {
		if time.Now().After(deadline) {
			t.Fatalf("%s's shards handled %d events in 10 s, want %d", mb.name, got, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func ctxT(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
