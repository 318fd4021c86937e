package handoff_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
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
)

// Three handoffs in a row while events flow: every shard handles 1..N
// exactly once across the generations, nothing IDENTIFYs after the first,
// the state travels with each shard, and each old generation empties.
func TestTakeOverChain(t *testing.T) {
	leaktest.Check(t)
	const shards = 4
	w := newWorld(t, shards, nil)
	prev := w.manager(t, 0, nil)
	waitRunning(t, prev, shards)
	stop := w.traffic(t, time.Millisecond)
	state := func(gen int) func(int) json.RawMessage {
		return func(sh int) json.RawMessage { return json.RawMessage(`{"gen":` + string(rune('0'+gen)) + `}`) }
	}
	for gen := 1; gen <= 3; gen++ {
		src := &handoff.Source{Manager: prev, Export: state(gen - 1)}
		url := serve(t, src)
		next := w.manager(t, gen, []int{})
		var mu sync.Mutex
		imported := map[int]string{}
		moved, err := handoff.TakeOver(ctxT(t, 20*time.Second), dial(t, url), next, &handoff.Options{
			Parallel: 2,
			Import: func(sh int, st json.RawMessage) {
				mu.Lock()
				imported[sh] = string(st)
				mu.Unlock()
			},
		})
		if err != nil {
			t.Fatalf("generation %d: %v", gen, err)
		}
		if len(moved) != shards {
			t.Fatalf("generation %d moved %d shards: %+v", gen, len(moved), moved)
		}
		for _, mv := range moved {
			if !mv.Resumed {
				t.Errorf("generation %d: shard %d identified", gen, mv.Shard)
			}
			if want := `{"gen":` + string(rune('0'+gen-1)) + `}`; imported[mv.Shard] != want {
				t.Errorf("generation %d: shard %d imported %q, want %q", gen, mv.Shard, imported[mv.Shard], want)
			}
		}
		select {
		case <-src.Emptied():
		case <-time.After(5 * time.Second):
			t.Fatalf("generation %d: the source still holds %v", gen-1, prev.Shards())
		}
		if got := next.Shards(); !slices.Equal(got, []int{0, 1, 2, 3}) {
			t.Fatalf("generation %d runs %v", gen, got)
		}
		prev = next
	}
	stop()
	w.settle(t)
	w.check(t)
	if n := w.identifies(); n != shards {
		t.Errorf("%d IDENTIFYs, want %d (the first generation's)", n, shards)
	}
	for sh := range shards {
		if g := w.gens(sh); !slices.Equal(g, []int{0, 1, 2, 3}) {
			t.Errorf("shard %d was handled by generations %v", sh, g)
		}
	}
}

// A successor that dies after the release: the lease times out and the
// source resumes the shard itself, losing and repeating nothing. An abort
// does the same at once.
func TestSuccessorDiesMidHandoff(t *testing.T) {
	leaktest.Check(t)
	w := newWorld(t, 2, nil)
	m := w.manager(t, 0, nil)
	waitRunning(t, m, 2)
	stop := w.traffic(t, time.Millisecond)
	src := &handoff.Source{Manager: m, LendTimeout: 300 * time.Millisecond}
	url := serve(t, src)
	c := dial(t, url)

	var lease handoff.Lease
	if err := c.Call(ctxT(t, 5*time.Second), handoff.RouteRelease, handoff.ShardArgs{Shard: 0}, &lease); err != nil {
		t.Fatal(err)
	}
	if !lease.Session.Valid() || lease.Token == "" || lease.Shard != 0 {
		t.Fatalf("lease %+v", lease)
	}
	c.Close() // the successor is gone: nobody commits
	if got := m.Shards(); !slices.Equal(got, []int{1}) {
		t.Fatalf("while lent the source runs %v", got)
	}
	waitRunning(t, m, 2) // taken back after the lease's timeout

	c = dial(t, url)
	if err := c.Call(ctxT(t, 5*time.Second), handoff.RouteRelease, handoff.ShardArgs{Shard: 1}, &lease); err != nil {
		t.Fatal(err)
	}
	if err := c.Call(ctxT(t, 5*time.Second), handoff.RouteAbort, handoff.LeaseArgs{Shard: 1, Token: lease.Token}, nil); err != nil {
		t.Fatal(err)
	}
	if got := m.Shards(); !slices.Equal(got, []int{0, 1}) {
		t.Fatalf("after the abort the source runs %v", got)
	}
	// The lease is over: neither a commit nor a second abort is taken.
	err := c.Call(ctxT(t, 5*time.Second), handoff.RouteCommit, handoff.LeaseArgs{Shard: 1, Token: lease.Token}, nil)
	if !errors.Is(err, handoff.ErrStaleLease) {
		t.Fatalf("commit of an aborted lease: %v", err)
	}
	waitRunning(t, m, 2)
	stop()
	w.settle(t)
	w.check(t)
	if n := w.identifies(); n != 2 {
		t.Errorf("%d IDENTIFYs, want 2", n)
	}
	select {
	case <-src.Emptied():
		t.Error("Emptied closed while the source holds both shards")
	default:
	}
	src.Wait()
}

// Bad requests get typed errors and lose nothing: a wrong secret, a shard
// not held, a shard already lent, a commit with a wrong token, a negative
// shard.
func TestBadRequests(t *testing.T) {
	leaktest.Check(t)
	w := newWorld(t, 2, nil)
	m := w.manager(t, 0, []int{0})
	waitRunning(t, m, 1)
	src := &handoff.Source{Manager: m, LendTimeout: time.Minute}
	url := serve(t, src)

	_, err := ipc.Dial(ctxT(t, 5*time.Second), ipc.ClientConfig{URL: url, Secret: "wrong"})
	if !errors.Is(err, ipc.ErrUnauthorized) {
		t.Fatalf("wrong secret: %v", err)
	}
	c := dial(t, url)
	ctx := ctxT(t, 10*time.Second)
	if err := c.Call(ctx, handoff.RouteRelease, handoff.ShardArgs{Shard: 1}, nil); !errors.Is(err, handoff.ErrNotHeld) {
		t.Errorf("release of a shard run elsewhere: %v", err)
	}
	if err := c.Call(ctx, handoff.RouteRelease, handoff.ShardArgs{Shard: -1}, nil); !errors.Is(err, handoff.ErrBadLease) {
		t.Errorf("release of shard -1: %v", err)
	}
	var lease handoff.Lease
	if err := c.Call(ctx, handoff.RouteRelease, handoff.ShardArgs{Shard: 0}, &lease); err != nil {
		t.Fatal(err)
	}
	if err := c.Call(ctx, handoff.RouteRelease, handoff.ShardArgs{Shard: 0}, nil); !errors.Is(err, handoff.ErrNotHeld) {
		t.Errorf("second release: %v", err)
	}
	var offer handoff.Offer
	if err := c.Call(ctx, handoff.RouteOffer, nil, &offer); err != nil || offer.ShardCount != 2 || len(offer.Shards) != 0 || !slices.Equal(offer.Lent, []int{0}) {
		t.Errorf("offer while lent: %+v, %v", offer, err)
	}
	for _, a := range []handoff.LeaseArgs{{Shard: 0, Token: "nope"}, {Shard: 1, Token: lease.Token}} {
		if err := c.Call(ctx, handoff.RouteCommit, a, nil); !errors.Is(err, handoff.ErrStaleLease) {
			t.Errorf("commit %+v: %v", a, err)
		}
	}
	if err := c.Call(ctx, handoff.RouteCommit, handoff.LeaseArgs{Shard: 0}, nil); !errors.Is(err, handoff.ErrBadLease) {
		t.Errorf("commit without a token: %v", err)
	}
	// Nothing was lost: the right abort takes it back.
	if err := c.Call(ctx, handoff.RouteAbort, handoff.LeaseArgs{Shard: 0, Token: lease.Token}, nil); err != nil {
		t.Fatal(err)
	}
	waitRunning(t, m, 1)
	src.Wait()
}

// A source that answers with another shard's session is refused with
// ErrWrongShard and the lease is handed back; a malformed lease likewise.
func TestTakeOverRefusesWrongLease(t *testing.T) {
	leaktest.Check(t)
	w := newWorld(t, 2, nil)
	aborts := make(chan handoff.LeaseArgs, 4)
	r := ipc.NewRouter()
	leases := map[int]handoff.Lease{
		0: {Shard: 1, ShardCount: 2, Token: "t0"},
		1: {Shard: 1, ShardCount: 2, Token: "t1", Session: gateway.Session{ID: "x", Seq: -5}},
	}
	r.HandleAll(map[string]ipc.Handler{
		handoff.RouteRelease: ipc.Func(func(ctx context.Context, a handoff.ShardArgs) (handoff.Lease, error) { return leases[a.Shard], nil }),
		handoff.RouteAbort: ipc.Func(func(ctx context.Context, a handoff.LeaseArgs) (struct{}, error) {
			aborts <- a
			return struct{}{}, nil
		}),
	})
	c := dial(t, serveRouter(t, r))
	next := w.manager(t, 1, []int{})
	moved, err := handoff.TakeOver(ctxT(t, 10*time.Second), c, next, &handoff.Options{Shards: []int{0, 1}})
	if len(moved) != 0 || !errors.Is(err, handoff.ErrWrongShard) || !errors.Is(err, handoff.ErrBadLease) {
		t.Fatalf("moved %v, err %v", moved, err)
	}
	got := map[string]bool{}
	for range 2 {
		got[(<-aborts).Token] = true
	}
	if !got["t0"] || !got["t1"] {
		t.Errorf("aborted %v", got)
	}
	if s := next.Shards(); len(s) != 0 {
		t.Errorf("the successor runs %v", s)
	}
}

// A commit that comes after the source took the shard back (as when its
// lease timed out first) is refused, and the successor backs out without
// having handed a single event to its handler: nothing is repeated.
func TestCommitAfterTakeBack(t *testing.T) {
	leaktest.Check(t)
	w := newWorld(t, 1, nil)
	m := w.manager(t, 0, nil)
	waitRunning(t, m, 1)
	stop := w.traffic(t, time.Millisecond)
	src := &handoff.Source{Manager: m}
	c := lateCommit{dial(t, serve(t, src))}
	next := w.manager(t, 1, []int{})
	moved, err := handoff.TakeOver(ctxT(t, 10*time.Second), c, next, nil)
	if len(moved) != 0 || !errors.Is(err, handoff.ErrStaleLease) {
		t.Fatalf("moved %v, err %v", moved, err)
	}
	src.Wait()
	waitRunning(t, m, 1)
	if s := next.Shards(); len(s) != 0 {
		t.Errorf("the successor runs %v", s)
	}
	stop()
	w.settle(t)
	w.check(t)
	if g := w.gens(0); !slices.Equal(g, []int{0}) {
		t.Errorf("handled by generations %v", g)
	}
}

// lateCommit makes the source take a shard back (an abort) just before
// the commit that should have kept it with the successor.
type lateCommit struct{ ipc.Caller }

func (c lateCommit) Call(ctx context.Context, route string, args, out any) error {
	if route == handoff.RouteCommit {
		if err := c.Caller.Call(ctx, handoff.RouteAbort, args, nil); err != nil {
			return err
		}
	}
	return c.Caller.Call(ctx, route, args, out)
}

// A handoff racing a fault — op 7, INVALID_SESSION (resumable or not), a
// socket cut mid-frame, a close with 4000 — aimed at the shards again and
// again while they move back and forth between two Managers: every shard
// ends up run by exactly one Manager, every session's events are handled
// exactly once in order, and only INVALID_SESSION d:false (the session is
// gone) costs IDENTIFYs, one per new session.
func TestTakeOverRacingFaults(t *testing.T) {
	faults := map[string]func(g *discordtest.Gateway, sh int) error{
		"reconnect":            func(g *discordtest.Gateway, sh int) error { return g.SendReconnect(sh) },
		"invalid_session_true": func(g *discordtest.Gateway, sh int) error { return g.SendInvalidSession(sh, true) },
		"invalid_session_false": func(g *discordtest.Gateway, sh int) error {
			return g.SendInvalidSession(sh, false)
		},
		"cut_mid_frame": func(g *discordtest.Gateway, sh int) error { return g.CutMidFrame(sh) },
		"close_4000":    func(g *discordtest.Gateway, sh int) error { return g.CloseShard(sh, 4000, "test") },
	}
	for name, fault := range faults {
		t.Run(name, func(t *testing.T) {
			leaktest.Check(t)
			const shards, rounds, minFaults, maxRounds = 3, 6, 5, 60
			w := newWorld(t, shards, nil)
			ms := [2]*shard.Manager{w.manager(t, 0, nil), w.manager(t, 1, []int{})}
			waitRunning(t, ms[0], shards)
			// The fake's 5 s identify rule must not hold back a new session.
			w.skew.Add(int64(10 * time.Second))
			stop := w.traffic(t, time.Millisecond)
			var srcs [2]*handoff.Source
			var clients [2]*ipc.Client
			for i, m := range ms {
				srcs[i] = &handoff.Source{Manager: m, LendTimeout: 5 * time.Second}
				clients[i] = dial(t, serve(t, srcs[i]))
			}

			// Every session a fault ends takes an IDENTIFY, up to the
			// last one's after the faults stop: the fake's clock jumps
			// past its 5 s identify rule every few ms until the shards
			// have settled, or it refuses them for 5 s, each refusal
			// retried.
			stopSkew := func() {}
			if name == "invalid_session_false" {
				stopSkew = skewOn(t, w)
			}
			quit, faulted := make(chan struct{}), make(chan struct{})
			var landed atomic.Int64
			go func() {
				defer close(faulted)
				for i := 0; ; i++ {
					select {
					case <-quit:
						return
					case <-time.After(3 * time.Millisecond):
					}
					if fault(w.g, i%shards) == nil {
						landed.Add(1)
					}
				}
			}()
			// A fault lands only on a live connection, and a shard a fault
			// closed stays down for its backoff, longer after every fault
			// (up to 100 ms here): six quick rounds on an idle machine can
			// be over before five have landed. So rounds go on until
			// minFaults have landed, however fast they go.
			failed, r := 0, 0
			for ; r < rounds || landed.Load() < minFaults && r < maxRounds; r++ {
				from, to := r%2, 1-r%2
				moved, err := handoff.TakeOver(ctxT(t, 60*time.Second), clients[from], ms[to], nil)
				if err != nil {
					failed++
					t.Logf("round %d: moved %d shards; %v", r, len(moved), err)
				}
			}
			close(quit)
			<-faulted
			n := int(landed.Load())
			for _, src := range srcs {
				src.Wait()
			}
			t.Logf("%d faults during %d rounds, %d with a failed move", n, r, failed)
			if n < minFaults {
				t.Errorf("only %d faults landed in %d rounds", n, r)
			}

			// Exactly one owner per shard, each running.
			owners := map[int]int{}
			for _, m := range ms {
				for _, id := range m.Shards() {
					owners[id]++
				}
			}
			for sh := range shards {
				if owners[sh] != 1 {
					t.Errorf("shard %d has %d owners (%v, %v)", sh, owners[sh], ms[0].Shards(), ms[1].Shards())
				}
			}
			for _, m := range ms {
				waitRunning(t, m, len(m.Shards()))
			}
			stop()
			w.settle(t)
			stopSkew()
			sessions := w.check(t)
			total := 0
			for _, s := range sessions {
				total += s
			}
			// Every session began with an IDENTIFY, and every IDENTIFY
			// after the first generation's answers an INVALID_SESSION
			// d:false (a refused one, within the fake's 5 s rule, is
			// retried).
			ids := w.identifies()
			if ids < total {
				t.Errorf("%d IDENTIFYs for %d sessions", ids, total)
			}
			if name == "invalid_session_false" && ids-shards > 2*n {
				t.Errorf("%d IDENTIFYs after %d INVALID_SESSION d:false", ids-shards, n)
			}
			if name != "invalid_session_false" && ids != shards {
				t.Errorf("%s: %d IDENTIFYs, want %d", name, ids, shards)
			}
			t.Logf("%s: %d IDENTIFYs (%d after the first generation's)", name, ids, ids-shards)
		})
	}
}

// skewOn moves the world's fake clock 6 s on every 3 ms until the
// returned stop (or the test's end).
func skewOn(t *testing.T, w *world) (stop func()) {
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(3 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-quit:
				return
			case <-tick.C:
				w.skew.Add(int64(6 * time.Second))
			}
		}
	}()
	var once sync.Once
	stop = func() { once.Do(func() { close(quit); <-done }) }
	t.Cleanup(stop)
	return stop
}

// A Claim that refuses a shard (a fleet member whose lease on it another
// member took meanwhile) leaves the shard to that other owner: the
// successor abandons it having handed its handler nothing, the other
// shards move, and TakeOver reports the refusal. Claim sees each shard
// after the Source let go, before Import.
func TestTakeOverClaimRefused(t *testing.T) {
	leaktest.Check(t)
	w := newWorld(t, 2, nil)
	m := w.manager(t, 0, nil)
	waitRunning(t, m, 2)
	stop := w.traffic(t, time.Millisecond)
	src := &handoff.Source{Manager: m}
	next := w.manager(t, 1, []int{})
	errTaken := errors.New("leased to another member")
	var mu sync.Mutex
	var calls []string
	moved, err := handoff.TakeOver(ctxT(t, 20*time.Second), dial(t, serve(t, src)), next, &handoff.Options{
		Claim: func(ctx context.Context, id int) error {
			mu.Lock()
			defer mu.Unlock()
			calls = append(calls, fmt.Sprintf("claim %d (source runs %v, lent %v)", id, m.Shards(), src.Lent()))
			if id == 1 {
				return errTaken
			}
			return nil
		},
		Import: func(id int, _ json.RawMessage) {
			mu.Lock()
			defer mu.Unlock()
			calls = append(calls, fmt.Sprintf("import %d", id))
		},
	})
	if len(moved) != 1 || moved[0].Shard != 0 || !errors.Is(err, errTaken) {
		t.Fatalf("moved %+v, err %v", moved, err)
	}
	want := []string{"claim 0 (source runs [1], lent [])", "import 0", "claim 1 (source runs [], lent [])"}
	if !slices.Equal(calls, want) {
		t.Errorf("calls %q, want %q", calls, want)
	}
	if got := next.Shards(); !slices.Equal(got, []int{0}) {
		t.Errorf("the successor runs %v", got)
	}
	if got := m.Shards(); len(got) != 0 {
		t.Errorf("the source runs %v", got)
	}
	stop()
	if g := w.gens(1); !slices.Equal(g, []int{0}) {
		t.Errorf("shard 1 was handled by generations %v", g)
	}
	if g := w.gens(0); !slices.Equal(g, []int{0, 1}) {
		t.Errorf("shard 0 was handled by generations %v", g)
	}
}

// A Source without its Manager cannot serve: Register says so with
// shard.ErrConfig.
func TestRegisterWithoutManager(t *testing.T) {
	var src handoff.Source
	if err := src.Register(ipc.NewRouter()); !errors.Is(err, shard.ErrConfig) {
		t.Fatalf("Register: %v, want shard.ErrConfig", err)
	}
}
