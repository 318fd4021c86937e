package gateway

import "time"

// TickResult is what Tick asks of the driver.
type TickResult int

const (
	// TickIdle: nothing to do until NextDeadline.
	TickIdle TickResult = iota
	// TickHeartbeat: a heartbeat is queued; write Output.
	TickHeartbeat
	// TickZombie: nothing was read since the last heartbeat, so the
	// connection is dead. Drop the TCP connection (no close frame: it
	// would end nothing) and resume on a new one.
	TickZombie
)

// NextDeadline returns when Tick must next be called. ok is false before
// HELLO (no timer runs). Right after HELLO it returns the zero time, which
// is already due: the first Tick schedules the first heartbeat relative to
// its now.
func (c *Conn) NextDeadline() (t time.Time, ok bool) {
	if c.state != stateOpen || !c.hello || c.err != nil {
		return time.Time{}, false
	}
	return c.nextBeat, true
}

// Tick runs the heartbeat timer at time now. The first heartbeat of a
// connection is sent interval × jitter after the first Tick following
// HELLO, later ones every interval. Before sending one, Tick checks that
// something was read off the socket since the previous one; if not, the
// connection is a zombie. This is stricter than waiting for the ACK, and
// catches half-open TCP connections a beat earlier.
func (c *Conn) Tick(now time.Time) TickResult {
	if c.state != stateOpen || !c.hello || c.err != nil {
		return TickIdle
	}
	if c.nextBeat.IsZero() {
		c.nextBeat = now.Add(time.Duration(float64(c.interval) * c.cfg.jitter()))
	}
	if now.Before(c.nextBeat) {
		return TickIdle
	}
	if c.beatSent && !c.readSince {
		c.log.Debug("gateway: zombie connection", "interval", c.interval)
		c.state = stateClosed
		c.err = ErrClosed
		return TickZombie
	}
	c.scratch = appendHeartbeat(c.scratch[:0], c.seq, c.hasSeq)
	c.out = c.appendText(c.out, c.scratch)
	c.beatSent = true
	c.readSince = false
	c.nextBeat = now.Add(c.interval)
	return TickHeartbeat
}
