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
// Timers take deadlines rather than durations: the shard computes when
// something is due from one reading of Now, and a deadline stays right
// even if the clock moved before the timer was armed (a fake clock moved
// by a test on another goroutine, say), where a duration would push it
// late.
//
// A nil Clock in Config or LocalLimiter means the system clock.
type Clock interface {
	// Now returns the current time.
	Now() time.Time
	// TimerAt returns a running Timer that fires once, at deadline (at
	// once if deadline has passed).
	TimerAt(deadline time.Time) Timer
}

// Timer is a Clock's one-shot timer, with the semantics of time.Timer
// since Go 1.23: after Stop or ResetAt returns, no stale time is received
// from C.
type Timer interface {
	// C delivers the time when the timer fires.
	C() <-chan time.Time
	// ResetAt makes the timer fire at deadline instead; it reports
	// whether the timer was running.
	ResetAt(deadline time.Time) bool
	// Stop stops the timer; it reports whether the timer was running.
	Stop() bool
}

// systemClock is the wall clock, the Clock of a nil Config.Clock.
type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

func (systemClock) TimerAt(deadline time.Time) Timer {
	return sysTimer{time.NewTimer(time.Until(deadline))}
}

type sysTimer struct{ t *time.Timer }

func (t sysTimer) C() <-chan time.Time             { return t.t.C }
func (t sysTimer) ResetAt(deadline time.Time) bool { return t.t.Reset(time.Until(deadline)) }
func (t sysTimer) Stop() bool                      { return t.t.Stop() }

// clockOr returns c, or the system clock when c is nil.
func clockOr(c Clock) Clock {
	if c == nil {
		return systemClock{}
	}
	return c
}
