package shard_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/ipcord/ipcord/discordtest"
	"github.com/ipcord/ipcord/gateway"
	"github.com/ipcord/ipcord/gateway/shard"
)

// timeScale makes the fake's clock run this much faster than real time,
// so its 5-second identify rule and 60-second send window take
// milliseconds.
const timeScale = 100

// scaledClock returns a clock that runs timeScale times faster than real
// time, from now.
func scaledClock() func() time.Time {
	start := time.Now()
	return func() time.Time { return start.Add(time.Since(start) * timeScale) }
}

// recorder is a Handler that keeps every event.
type recorder struct {
	mu      sync.Mutex
	events  []shard.Event
	changed chan struct{}
	block   chan struct{} // when non-nil, each event waits for a receive on it... or its close
}

func newRecorder() *recorder { return &recorder{changed: make(chan struct{})} }

func (r *recorder) handle(ctx context.Context, ev shard.Event) {
	r.mu.Lock()
	block := r.block
	r.mu.Unlock()
	if block != nil {
		select {
		case <-block:
		case <-ctx.Done():
			return
		}
	}
	r.mu.Lock()
	r.events = append(r.events, ev)
	close(r.changed)
	r.changed = make(chan struct{})
	r.mu.Unlock()
}

func (r *recorder) snapshot() []shard.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]shard.Event(nil), r.events...)
}

// wait blocks until cond holds for the events so far, or fails t.
func (r *recorder) wait(t testing.TB, timeout time.Duration, what string, cond func([]shard.Event) bool) {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		r.mu.Lock()
		ok := cond(r.events)
		ch := r.changed
		r.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-ch:
		case <-deadline.C:
			t.Fatalf("timed out after %v waiting for %s; events: %s", timeout, what, summary(r.snapshot()))
		}
	}
}

func summary(evs []shard.Event) string {
	s := ""
	for _, e := range evs {
		s += fmt.Sprintf(" %s#%d", e.Name, e.Seq)
	}
	return s
}

func count(evs []shard.Event, name string) int {
	n := 0
	for _, e := range evs {
		if e.Name == name {
			n++
		}
	}
	return n
}

// checkSeqs fails t unless every session's events (a READY starts one)
// carry consecutive sequence numbers from 1: no gap, no duplicate.
func checkSeqs(t testing.TB, evs []shard.Event) {
	t.Helper()
	if err := seqError(evs); err != nil {
		t.Fatalf("%v; events: %s", err, summary(evs))
	}
}

func seqError(evs []shard.Event) error {
	var last int64 = -1
	for i, e := range evs {
		if e.Name == "READY" {
			if e.Seq != 1 {
				return fmt.Errorf("event %d: READY with seq %d", i, e.Seq)
			}
			last = 1
			continue
		}
		if last < 0 {
			return fmt.Errorf("event %d: %s before READY", i, e.Name)
		}
		if e.Seq != last+1 {
			return fmt.Errorf("event %d: %s seq %d after %d (gap or duplicate)", i, e.Name, e.Seq, last)
		}
		last = e.Seq
	}
	return nil
}

// lastSeq is the highest sequence number of the last session in evs.
func lastSeq(evs []shard.Event) int64 {
	if len(evs) == 0 {
		return 0
	}
	return evs[len(evs)-1].Seq
}

type env struct {
	g      *discordtest.Gateway
	s      *shard.Shard
	rec    *recorder
	errc   chan error
	cancel context.CancelFunc
	cfg    shard.Config
}

func startGateway(t testing.TB, interval time.Duration, mod func(*discordtest.Gateway)) *discordtest.Gateway {
	t.Helper()
	g := &discordtest.Gateway{HeartbeatInterval: interval, Now: scaledClock()}
	if mod != nil {
		mod(g)
	}
	if err := g.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Close() })
	return g
}

// shardConfig is the tests' shard config against g; with g nil the caller
// sets Gateway.URL.
func shardConfig(g *discordtest.Gateway, rec *recorder) shard.Config {
	url := ""
	if g != nil {
		url = g.URL()
	}
	return shard.Config{
		Gateway: gateway.Config{
			Token: "token", URL: url, Intents: gateway.IntentGuilds | gateway.IntentGuildMessages,
			Jitter: func() float64 { return 0.5 },
			// The fake heartbeats every few tens of ms of real time.
			MinHeartbeatInterval: time.Millisecond,
		},
		Handler:  rec.handle,
		Backoff:  shard.Backoff{Base: 10 * time.Millisecond, Max: 50 * time.Millisecond, Min: time.Millisecond},
		Identify: &shard.LocalLimiter{Interval: 5 * time.Second / timeScale * 6 / 5},
	}
}

// startShard runs a shard against g until the test ends.
func startShard(t testing.TB, g *discordtest.Gateway, mod func(*shard.Config)) *env {
	t.Helper()
	rec := newRecorder()
	cfg := shardConfig(g, rec)
	if mod != nil {
		mod(&cfg)
	}
	s, err := shard.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	e := &env{g: g, s: s, rec: rec, errc: make(chan error, 1), cancel: cancel, cfg: cfg}
	go func() { e.errc <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-e.errc:
			e.errc <- err
		case <-time.After(10 * time.Second):
			t.Error("Run did not return after cancel")
		}
	})
	return e
}

func (e *env) waitReady(t testing.TB) {
	t.Helper()
	e.rec.wait(t, patience, "READY", func(evs []shard.Event) bool { return count(evs, "READY") > 0 })
}

// dispatch sends n MESSAGE_CREATE events to shard 0; errors (no session)
// are ignored, as a test of an identify fault dispatches into the gap.
func (e *env) dispatch(n int) {
	for i := range n {
		e.g.Dispatch(0, "MESSAGE_CREATE", map[string]any{"content": fmt.Sprint("m", i)})
	}
}

// waitCaughtUp waits until the handler has seen the fake's last sequence
// number of shard 0's session.
func (e *env) waitCaughtUp(t testing.TB, timeout time.Duration) {
	t.Helper()
	e.rec.wait(t, timeout, "all dispatches", func(evs []shard.Event) bool {
		si, ok := e.g.Session(0)
		return ok && si.Conn != 0 && lastSeq(evs) == si.Seq
	})
}

func (e *env) runErr(t testing.TB, timeout time.Duration) error {
	t.Helper()
	select {
	case err := <-e.errc:
		e.errc <- err
		return err
	case <-time.After(timeout):
		t.Fatalf("Run did not return within %v", timeout)
		return nil
	}
}

func ctxT(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

var _ = errors.Is

// patience bounds a wait for something that must happen, in real time: a
// limit on a broken test, not a guess at how long anything takes. What a
// test asserts about time it measures on a runningClock.
const patience = 30 * time.Second

// runningStep is the most a runningClock moves in one step.
const runningStep = 5 * time.Millisecond

// newRunningClock returns a fakeClock that a goroutine of the test process
// moves with real time, a millisecond at a time and never more than
// runningStep in one step. While the process is not running (a loaded
// machine has descheduled it), neither is that goroutine, so the clock
// stands still: a budget measured on it holds the shard to what it decides
// (heartbeats, zombie verdicts, backoff) and the work it does, but not to
// the machine's load. The shard and the fake gateway run on it (the fake
// timeScale times faster), so their timers stand still with it.
func newRunningClock(t testing.TB) *fakeClock {
	c := newFakeClock()
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		last := time.Now()
		for {
			select {
			case <-tick.C:
			case <-stop:
				return
			}
			now := time.Now()
			c.Advance(min(now.Sub(last), runningStep))
			last = now
		}
	}()
	t.Cleanup(func() {
		close(stop)
		<-done
	})
	return c
}

// scaledFrom is c's time running timeScale times faster, for the fake.
func scaledFrom(c *fakeClock) func() time.Time {
	start := c.Now()
	return func() time.Time { return start.Add(c.Now().Sub(start) * timeScale) }
}

// startOnClock runs a fake gateway and a shard on clock until the test
// ends.
func startOnClock(t testing.TB, clock *fakeClock, interval time.Duration, mod func(*shard.Config)) (*discordtest.Gateway, *env) {
	t.Helper()
	g := startGateway(t, interval, func(g *discordtest.Gateway) { g.Now = scaledFrom(clock) })
	e := startShard(t, g, func(c *shard.Config) {
		c.Clock = clock
		c.Identify = &shard.LocalLimiter{Interval: 5 * time.Second / timeScale * 6 / 5, Clock: clock}
		if mod != nil {
			mod(c)
		}
	})
	return g, e
}
