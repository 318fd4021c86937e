package shard

import "time"

// Clock is the shard's source of time, so tests can run heartbeats,
// timeouts and backoff on a clock they move by hand instead of waiting
// for them. Every timing decision of a Shard (and of a LocalLimiter) goes
// through it: heartbeats and the zombie verdict (gateway.Conn.Tick gets
// the clock's Now), the HELLO and READY timeouts, backoff between
// attempts, the send limiter's 60 s window, identify intervals and budget
// resets, and heartbeat latency.
//
// Socket I/O stays on the wall clock: the dial timeout, write deadlines
// and the short wait for the server's reply to a close frame bound what
// the kernel and the peer do, which a fake clock cannot move.
//
// A nil Clock in Config or LocalLimiter means the system clock.
type Clock interface {
	// Now returns the current time.
	Now() time.Time
	// NewTimer returns a running Timer that fires once, after d.
	NewTimer(d time.Duration) Timer
}

// Timer is a Clock's one-shot timer, with the semantics of time.Timer
// since Go 1.23: after Stop or Reset returns, no stale time is received
// from C.
type Timer interface {
	// C delivers the time when the timer fires.
	C() <-chan time.Time
	// Reset makes the timer fire after d; it reports whether the timer
	// was running.
	Reset(d time.Duration) bool
	// Stop stops the timer; it reports whether the timer was running.
	Stop() bool
}

// systemClock is the wall clock, the Clock of a nil Config.Clock.
type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

func (systemClock) NewTimer(d time.Duration) Timer { return sysTimer{time.NewTimer(d)} }

type sysTimer struct{ t *time.Timer }

func (t sysTimer) C() <-chan time.Time        { return t.t.C }
func (t sysTimer) Reset(d time.Duration) bool { return t.t.Reset(d) }
func (t sysTimer) Stop() bool                 { return t.t.Stop() }

// clockOr returns c, or the system clock when c is nil.
func clockOr(c Clock) Clock {
	if c == nil {
		return systemClock{}
	}
	return c
}
