package shard_test

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ipcord/ipcord/gateway/shard"
)

// fakeClock is a shard.Clock that moves only when the test calls Advance,
// so a test can run a 41-second heartbeat interval or a 30-second READY
// timeout without waiting for it. It stays in the tests: bot authors
// testing their own handlers rarely need to drive the shard's timers, and
// shard.Clock is small enough to implement where they do.
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	seq     int           // creation order, to fire timers due at the same time in order
	timers  []*fakeTimer  // the running ones
	changed chan struct{} // closed when a timer starts, stops or fires
}

func newFakeClock() *fakeClock {
	return &fakeClock{
		now:     time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		changed: make(chan struct{}),
	}
}

type fakeTimer struct {
	c   *fakeClock
	ch  chan time.Time
	at  time.Time
	seq int
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Since is Now minus t, for assertions in fake time.
func (c *fakeClock) Since(t time.Time) time.Duration { return c.Now().Sub(t) }

func (c *fakeClock) TimerAt(at time.Time) shard.Timer {
	t := &fakeTimer{c: c, ch: make(chan time.Time, 1)}
	c.mu.Lock()
	defer c.mu.Unlock()
	t.startLocked(at)
	return t
}

// NewTimer is TimerAt(Now() + d).
func (c *fakeClock) NewTimer(d time.Duration) shard.Timer { return c.TimerAt(c.Now().Add(d)) }

// startLocked arms t for at; a due timer fires at once.
func (t *fakeTimer) startLocked(at time.Time) {
	c := t.c
	c.seq++
	t.at, t.seq = at, c.seq
	if !at.After(c.now) {
		t.ch <- c.now
	} else {
		c.timers = append(c.timers, t)
	}
	c.notifyLocked()
}

// stopLocked disarms t and drops a time it delivered but nobody received
// (time.Timer's semantics since Go 1.23).
func (t *fakeTimer) stopLocked() bool {
	c := t.c
	select {
	case <-t.ch:
	default:
	}
	i := slices.Index(c.timers, t)
	if i < 0 {
		return false
	}
	c.timers = slices.Delete(c.timers, i, i+1)
	c.notifyLocked()
	return true
}

func (t *fakeTimer) C() <-chan time.Time { return t.ch }

func (t *fakeTimer) ResetAt(at time.Time) bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	was := t.stopLocked()
	t.startLocked(at)
	return was
}

func (t *fakeTimer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	return t.stopLocked()
}

func (c *fakeClock) notifyLocked() {
	close(c.changed)
	c.changed = make(chan struct{})
}

// Advance moves the clock on by d, firing the timers that fall due on the
// way in order of their deadlines (then of their creation), each with the
// clock set to its deadline. A timer its owner starts in reaction only
// fires on a later Advance: step through events one Advance at a time.
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	end := c.now.Add(d)
	for {
		i := -1
		for j, t := range c.timers {
			if t.at.After(end) {
				continue
			}
			if i < 0 || t.at.Before(c.timers[i].at) || (t.at.Equal(c.timers[i].at) && t.seq < c.timers[i].seq) {
				i = j
			}
		}
		if i < 0 {
			break
		}
		t := c.timers[i]
		c.timers = slices.Delete(c.timers, i, i+1)
		c.now = t.at
		t.ch <- t.at // cap 1 and drained on Stop/Reset: never blocks
		c.notifyLocked()
	}
	c.now = end
}

// AdvanceTo moves the clock to at (which must not be in the past).
func (c *fakeClock) AdvanceTo(t testing.TB, at time.Time) {
	t.Helper()
	d := at.Sub(c.Now())
	if d < 0 {
		t.Fatalf("fake clock: AdvanceTo %v is %v in the past", at, -d)
	}
	c.Advance(d)
}

// waitFor waits until cond holds for the running timers' deadlines, or
// fails t after timeout of real time (a bound on a broken test, not a
// guess at how long anything takes).
func (c *fakeClock) waitFor(t testing.TB, timeout time.Duration, what string, cond func(deadlines []time.Time) bool) {
	t.Helper()
	limit := time.NewTimer(timeout)
	defer limit.Stop()
	for {
		c.mu.Lock()
		ats := make([]time.Time, len(c.timers))
		for i, tm := range c.timers {
			ats[i] = tm.at
		}
		ch := c.changed
		now := c.now
		c.mu.Unlock()
		if cond(ats) {
			return
		}
		select {
		case <-ch:
		case <-limit.C:
			t.Fatalf("fake clock: timed out waiting for %s; now %v, timers at %v", what, now, c.offsets(ats))
		}
	}
}

func (c *fakeClock) offsets(ats []time.Time) string {
	c.mu.Lock()
	now := c.now
	c.mu.Unlock()
	s := "["
	for i, at := range ats {
		if i > 0 {
			s += " "
		}
		s += fmt.Sprintf("now%+v", at.Sub(now))
	}
	return s + "]"
}

// BlockUntil waits until at least n timers are running: whoever the test
// drives is parked on them.
func (c *fakeClock) BlockUntil(t testing.TB, n int) {
	t.Helper()
	c.waitFor(t, 5*time.Second, fmt.Sprintf("%d running timers", n), func(ats []time.Time) bool { return len(ats) >= n })
}

// BlockUntilTimerAt waits until a timer is running with deadline at: the
// shard has taken in what happened and parked on its next deadline.
func (c *fakeClock) BlockUntilTimerAt(t testing.TB, at time.Time) {
	t.Helper()
	c.waitFor(t, 5*time.Second, fmt.Sprintf("a timer at %v", at), func(ats []time.Time) bool {
		return slices.ContainsFunc(ats, at.Equal)
	})
}

// The fake clock itself: timers fire in deadline order, each with the
// clock at its deadline; Stop and Reset leave no stale tick behind.
func TestFakeClock(t *testing.T) {
	c := newFakeClock()
	start := c.Now()
	late, early := c.NewTimer(3*time.Second), c.NewTimer(time.Second)
	stopped := c.NewTimer(2 * time.Second)
	if !stopped.Stop() || stopped.Stop() {
		t.Fatal("Stop of a running timer must report true once")
	}
	c.Advance(time.Second - 1)
	select {
	case <-early.C():
		t.Fatal("fired early")
	default:
	}
	c.Advance(5 * time.Second)
	if got := <-early.C(); !got.Equal(start.Add(time.Second)) {
		t.Fatalf("early fired with %v", got.Sub(start))
	}
	if got := <-late.C(); !got.Equal(start.Add(3 * time.Second)) {
		t.Fatalf("late fired with %v", got.Sub(start))
	}
	select {
	case <-stopped.C():
		t.Fatal("a stopped timer fired")
	default:
	}
	if !c.Now().Equal(start.Add(6*time.Second - 1)) {
		t.Fatalf("now %v", c.Since(start))
	}
	// A fired, unreceived tick is dropped by Reset.
	c.Advance(3 * time.Second)
	if late.ResetAt(c.Now().Add(time.Second)) {
		t.Fatal("ResetAt of a fired timer reported it running")
	}
	select {
	case <-late.C():
		t.Fatal("stale tick after ResetAt")
	default:
	}
	c.BlockUntil(t, 1)
	// A deadline already past fires at once, with the clock's time.
	late.ResetAt(start)
	if got := <-late.C(); !got.Equal(c.Now()) {
		t.Fatalf("past deadline fired with %v", got.Sub(start))
	}
}
