package ipc

import (
	"context"
	"fmt"
	"time"

	"github.com/ipcord/ipcord/ipc/internal/wire"
)

// Reading: who reads the socket, and how the reading is handed over.
//
// One goroutine at a time reads a native connection, the reader, and
// dispatches whatever arrives: replies to the calls waiting for them,
// requests to their handlers, pongs and closes. The reader is either the
// connection's read loop or a call. A call that finds nobody reading once
// its request is written reads itself (it leads) until its own reply
// arrives; it dispatches everything else on the way, running requests on
// workers. So a caller making one call at a time is woken by the socket
// itself, as a bare echo client is, instead of by a reader handing it its
// reply: that hand-off was a goroutine wake-up inside every call, often
// on the other CPU.
//
// The read loop reads whenever no call does. It leaves the reading after
// delivering a reply when no other call is in flight (that caller is
// likely to call again), unless the peer has been sending requests lately
// (within servingQuiet): then it keeps reading, to run them at once. A
// call that stops reading hands the reading back to the loop at once when
// other calls are in flight (the loop reads their replies in batches,
// which a call leaving after its own reply cannot) or when the peer sends
// requests, else leaves it to nobody; the loop takes it back once nobody
// has read for lingerFor, so a request, a ping or a close arriving between
// calls waits at most that long. While calls read, the loop's timer wakes
// it about every lingerFor, which costs far less than a wake-up per call;
// while one call reads for long, less and less often (up to lingerMax),
// and that call kicks it when it stops reading.
//
// A call reads with the socket's read deadline no later than its own, so
// it returns in time. Its context ending otherwise (canceled) is noticed
// by the lingering loop at its next look, within lingerMax, which
// interrupts the read by moving the deadline to the past: registering
// with every call's context (context.AfterFunc) would cost four
// allocations a call. A reader that finds the deadline passed checks
// whether it concerns it, and otherwise resets it and reads on.
const (
	lingerFor    = time.Millisecond
	lingerMax    = 16 * time.Millisecond
	servingQuiet = 50 * time.Millisecond
)

// readerKind is who reads a connection.
type readerKind int8

const (
	readerNone readerKind = iota // nobody: the next call, or the loop within lingerFor
	readerLoop                   // the read loop
	readerCall                   // a call
)

// lead reads the connection for call id, which has taken the reading,
// until its reply arrives, ctx ends or deadline (zero: none) passes.
func (c *conn) lead(ctx context.Context, id uint64, ch chan reply, deadline time.Time) ([]byte, error) {
	c.armReadDeadline(deadline)
	if c.hint != nil {
		c.hint.expectSoon(true)
	}
	if err := ctx.Err(); err != nil {
		// Checked after the deadline is set: from here on, an interrupt
		// is never overwritten by it.
		return c.stopLeading(id, ch, contextError(ctx))
	}
	for {
		payload, st := c.readText(true)
		switch st {
		case readEnded:
			return nil, c.lostError()
		case readTimeout:
			if err := c.readDeadlinePassed(ctx, deadline); err != nil {
				return c.stopLeading(id, ch, err)
			}
			continue
		}
		f, err := wire.Decode(payload)
		if err != nil {
			c.protocolError(err)
			return nil, c.lostError()
		}
		if f.ID == id && (f.Type == wire.TypeResult || f.Type == wire.TypeError) {
			var r reply
			if f.Type == wire.TypeResult {
				r.data = append([]byte(nil), f.Data...) // f aliases the read buffer
			} else {
				r.err = &Error{Code: f.Code, Message: f.Message}
			}
			c.mu.Lock()
			delete(c.pending, id)
			c.handOnLocked()
			c.mu.Unlock()
			replyPool.Put(ch)
			return r.data, r.err
		}
		if t, run := c.dispatch(&f); run {
			c.cfg.workers.run(func() { c.runWorker(t) })
		}
	}
}

// readDeadlinePassed handles a read of call-holding-the-reading that
// ended on the socket's deadline: the call's error when its context ended
// or its deadline passed, else nil once the socket's deadline is the
// call's again (it was another's, or a late interrupt).
func (c *conn) readDeadlinePassed(ctx context.Context, deadline time.Time) error {
	if ctx.Err() != nil {
		return contextError(ctx)
	}
	if !deadline.IsZero() && !time.Now().Before(deadline) {
		return fmt.Errorf("%w: %w", ErrTimeout, context.DeadlineExceeded)
	}
	c.setReadDeadline(deadline)
	// An interrupt that came before the line above was undone by it; its
	// context has ended, then, and this says so.
	if ctx.Err() != nil {
		return contextError(ctx)
	}
	return nil
}

// stopLeading ends call id, which holds the reading, with err: the
// reading goes on to someone else and the peer is told to cancel.
func (c *conn) stopLeading(id uint64, ch chan reply, err error) ([]byte, error) {
	c.mu.Lock()
	delete(c.pending, id)
	c.handOnLocked()
	c.mu.Unlock()
	replyPool.Put(ch) // only the reader sends on it, and that was this call
	c.writeFrame(wire.AppendCancel(nil, id))
	return nil, err
}

// handOnLocked passes the reading on from a call that stops reading: to
// the read loop while other calls are in flight or the peer sends
// requests, else to nobody (the loop takes it within lingerFor). c.mu is
// held.
func (c *conn) handOnLocked() {
	c.leadCtx = nil
	now := time.Now()
	if len(c.pending) > 0 || c.servedLately(now) {
		c.reader = readerLoop
		c.kickLoop()
		return
	}
	c.reader, c.released = readerNone, now
	if c.dozing {
		c.kickLoop() // it would look only lingerMax later
	}
}

// servedLately reports whether a request was read within servingQuiet
// before now.
func (c *conn) servedLately(now time.Time) bool {
	last := c.lastServed.Load()
	return last > 0 && sinceEpoch(now)-last < int64(servingQuiet)
}

// leaveReading is the read loop's choice, after delivering a reply, to
// leave the reading to the calls: when no other call waits, nothing more
// is buffered, and the peer has not sent requests lately.
func (c *conn) leaveReading() bool {
	now := time.Now()
	if c.dec.Buffered() > 0 || c.servedLately(now) {
		return false
	}
	c.flushHeld()
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.pending) > 0 || c.reader != readerLoop {
		return false
	}
	c.reader, c.released = readerNone, now
	return true
}

// linger is the read loop while calls read: it takes the reading back
// when handed it, when kicked while nobody reads, or once nobody has read
// for lingerFor. Meanwhile it interrupts a reading call whose context
// ended. It reports false when the connection ended.
func (c *conn) linger() bool {
	select {
	case <-c.kick: // a stale kick, from while the loop read
	default:
	}
	t := time.NewTimer(lingerFor)
	defer t.Stop()
	var lead uint64       // the call reading at the last look
	doze := lingerFor / 2 // the wait while that call reads on
	for {
		c.mu.Lock()
		wait := lingerFor
		c.dozing = false
		switch c.reader {
		case readerLoop:
			c.mu.Unlock()
			return true
		case readerNone:
			if wait -= time.Since(c.released); wait <= 0 {
				c.reader = readerLoop
				c.mu.Unlock()
				return true
			}
		case readerCall:
			if c.leadCtx != nil && c.leadCtx.Err() != nil {
				c.interrupt()
			}
			if c.leads != lead {
				lead, doze = c.leads, lingerFor/2
			}
			doze = min(2*doze, lingerMax)
			wait, c.dozing = doze, doze > lingerFor
		}
		c.mu.Unlock()
		t.Reset(wait)
		select {
		case <-c.done:
			return false
		case <-c.kick:
			c.mu.Lock()
			if c.reader == readerNone {
				c.reader = readerLoop
			}
			c.mu.Unlock()
		case <-t.C:
		}
	}
}

// kickLoop makes a lingering read loop look at once: it takes the
// reading when nobody has it.
func (c *conn) kickLoop() {
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

// armReadDeadline makes the socket's read deadline no later than dl
// (zero: no deadline needed). An earlier one stays: the reader then
// finds it passed and sets the right one (readDeadlinePassed).
func (c *conn) armReadDeadline(dl time.Time) {
	if dl.IsZero() || !c.rdl.IsZero() && !dl.Before(c.rdl) {
		return
	}
	c.setReadDeadline(dl)
}

// interrupt ends the wait of whoever reads the socket, which then finds
// its read deadline passed.
func (c *conn) interrupt() { c.nc.SetReadDeadline(time.Unix(1, 0)) }

// setReadDeadline sets the socket's read deadline; only the reader does.
func (c *conn) setReadDeadline(dl time.Time) {
	c.rdl = dl
	c.nc.SetReadDeadline(dl)
}
