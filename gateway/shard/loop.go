package shard

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/ipcord/ipcord/gateway"
)

// outcome is how one connection ended.
type outcome struct {
	err  error // why it ended (nil for a clean stop)
	stop bool  // Run returns err
}

// loop runs connections until the shard stops.
func (s *Shard) loop(ctx context.Context) error {
	attempt := 0
	clock := s.cfg.Clock
	for n := 0; ; n++ {
		// The process's cap on dials comes on top of this shard's backoff.
		if d := s.cfg.Connects.reserve(clock.Now()); d > 0 {
			s.log.Debug("shard: connection attempts over the process's limit, waiting", "for", d)
			if stop, err := s.wait(ctx, d); stop {
				return err
			}
		}
		if n > 0 {
			s.update(func(st *statusState) { st.Reconnects++ })
		}
		s.update(func(st *statusState) { st.Connections++ })
		l := &link{s: s}
		began := clock.Now()
		out := l.run(ctx)
		if out.stop {
			return out.err
		}
		if l.deferred != nil {
			// The handoff waited for a READY that never came: stop now.
			s.stopReq = *l.deferred
			return nil
		}
		if s.conn.DecompressFailures() >= s.cfg.MaxDecompressFailures {
			s.log.Warn("shard: giving up: compressed stream undecodable on consecutive connections", "count", s.conn.DecompressFailures())
			return ErrDecompressFailures
		}
		s.update(func(st *statusState) { st.LastError = out.err })
		// Only a connection that got going and then lasted resets the
		// count: one dropped right after READY is a failure like any.
		if l.gotGoing && clock.Now().Sub(began) >= s.cfg.Backoff.stableAfter() {
			attempt = 0
		} else {
			attempt++
		}
		d := s.cfg.Backoff.delay(attempt, s.cfg.Rand)
		s.log.Debug("shard: reconnecting", "after", d, "attempt", attempt, "err", out.err)
		if stop, err := s.wait(ctx, d); stop {
			return err
		}
	}
}

// wait sleeps d in StateBackoff before a connection attempt. stop reports
// that Run must return err (nil after Close).
func (s *Shard) wait(ctx context.Context, d time.Duration) (stop bool, err error) {
	if d <= 0 {
		return false, nil
	}
	s.setState(StateBackoff)
	req, closing, err := s.sleep(ctx, d)
	if err != nil {
		return true, err
	}
	if closing {
		s.stopReq = req
		if req.end {
			s.conn.Close(1000, "")
		}
		return true, nil
	}
	return false, nil
}

// link is one connection's life, run by the shard's loop goroutine.
type link struct {
	s  *Shard
	nc net.Conn
	r  *reader

	// held is a chunk read while reading was paused: it goes to the Conn
	// (and is acknowledged) once the Conn has given every event it holds,
	// so those keep the time of the read that brought them.
	held     chunk
	holding  bool
	readAt   time.Time // when the chunk the Conn is reading now was read
	hello    bool
	helloBy  time.Time
	interval time.Duration
	gotGoing bool // READY or RESUMED arrived
	identAt  time.Time
	// deferred is a HandOff that came while an IDENTIFY awaited its
	// READY: stopping then would lose the session it starts (and the
	// IDENTIFY spent) to both processes, so the stop waits until the
	// handler has handled READY (see readyPending).
	deferred  *closeReq
	acquiring bool
	slot      chan slotResult
	release   func(error)
	limiter   sendLimiter

	lastBeat time.Time // when the last heartbeat went out, for latency

	// Housekeeping, on the wall clock: once nothing was read for a
	// compactAfter period, the Conn lets go of its buffers.
	idle      *time.Timer
	readSince bool // a chunk arrived since idle last fired
	compacted bool // Compact ran and nothing was read since: idle is stopped
}

// compactAfter is how long a connection must be quiet before its buffers
// are let go of (gateway.Conn.Compact): between one and two periods after
// the last read, as the timer is not moved on every read.
const compactAfter = time.Second

type slotResult struct {
	release func(error)
	err     error
}

func (l *link) run(ctx context.Context) (out outcome) {
	s := l.s
	s.setState(StateConnecting)
	d, err := s.conn.Connect()
	if err != nil {
		return outcome{err: fmt.Errorf("%w: %w", ErrConfig, err), stop: true}
	}
	nc, err := s.dial(ctx, d.URL)
	if err != nil {
		s.conn.DialFailed()
		if ctx.Err() != nil {
			return outcome{err: ctx.Err(), stop: true}
		}
		return outcome{err: fmt.Errorf("%w: dial: %w", ErrConnectionLost, err)}
	}
	l.nc = nc
	l.r = startReader(nc)
	l.idle = time.NewTimer(compactAfter)
	cctx, cancel := context.WithCancel(ctx)
	defer func() {
		cancel()
		l.r.stop()
		l.idle.Stop()
		l.dropSlot(out.err)
	}()
	if err := l.write(d.Request); err != nil {
		s.conn.DialFailed()
		return outcome{err: err}
	}
	clock := s.cfg.Clock
	l.helloBy = clock.Now().Add(s.cfg.HelloTimeout)
	timer := clock.TimerAt(clock.Now().Add(time.Hour))
	defer timer.Stop()
	for {
		if out, done := l.process(cctx); done {
			return out
		}
		var drained, progress <-chan struct{}
		if l.deferred != nil {
			if !l.readyPending() {
				return l.stop(*l.deferred)
			}
			drained, progress = l.deferred.drain.Done(), s.progress
		}
		timer.ResetAt(l.wake(clock.Now()))
		select {
		case <-ctx.Done():
			l.closeWith(4000, "shutting down")
			return outcome{err: ctx.Err(), stop: true}
		case req := <-s.closeCh:
			if req.drain != nil && l.readyPending() {
				s.log.Debug("shard: handoff waits for the READY of the IDENTIFY sent")
				l.deferred = &req
				s.watchHandled.Store(true)
				continue
			}
			return l.stop(req)
		case <-drained:
			return l.stop(*l.deferred)
		case <-progress:
		case c := <-l.r.chunks:
			l.read()
			if c.err == nil && s.paused {
				l.held, l.holding = c, true
				continue
			}
			l.receive(c)
			if c.err != nil {
				// Take what the last bytes completed (a close frame, say),
				// then the connection is gone.
				if out, done := l.process(cctx); done {
					return out
				}
				if !l.hello {
					s.conn.DialFailed()
				}
				return outcome{err: fmt.Errorf("%w: %w", ErrConnectionLost, c.err)}
			}
			l.r.ack <- struct{}{}
		case <-timer.C():
			if out, done := l.timer(); done {
				return out
			}
		case <-l.idle.C:
			l.quiet()
		case <-s.q.room:
		case req := <-s.sendCh:
			s.sends = append(s.sends, req)
		case res := <-l.slot:
			l.acquiring = false
			if out, done := l.identify(res); done {
				return out
			}
		}
	}
}

// receive gives a chunk's bytes to the Conn: the events they complete
// were received when the chunk was read.
func (l *link) receive(c chunk) {
	l.s.conn.Receive(c.bytes())
	l.readAt = c.at
}

// readyPending reports whether the session this connection's IDENTIFY
// starts has no event handled yet (READY awaited, or queued): a handoff
// then would leave a session nobody can resume, since a RESUME from seq 0
// replays a READY.
func (l *link) readyPending() bool {
	if l.identAt.IsZero() {
		return false
	}
	if !l.gotGoing {
		return true
	}
	s := l.s
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.handled.ID != s.session
}

// stop ends the connection for a Close or HandOff.
func (l *link) stop(req closeReq) outcome {
	l.s.stopReq = req
	code := gateway.CloseCode(4000)
	if req.end {
		code = 1000
	}
	l.closeWith(code, "closing")
	return outcome{stop: true}
}

// read notes that bytes arrived, for the housekeeping timer.
func (l *link) read() {
	if l.compacted {
		l.compacted = false
		l.idle.Reset(compactAfter)
		return
	}
	l.readSince = true
}

// quiet runs when the housekeeping timer fires: after a period with no
// read, the Conn lets go of its buffers and the timer stops until the
// next read; otherwise it looks again a period later.
func (l *link) quiet() {
	if l.readSince {
		l.readSince = false
		l.idle.Reset(compactAfter)
		return
	}
	l.s.conn.Compact()
	l.s.q.retire()
	l.compacted = true
}

// flushOr writes Output; a write error ends the connection.
func (l *link) flushOr() bool { return l.flush() != nil }

func (l *link) flush() error {
	b := l.s.conn.Output()
	if len(b) == 0 {
		return nil
	}
	return l.write(b)
}

func (l *link) write(b []byte) error {
	// Socket deadlines are the kernel's, on the wall clock, not Config.Clock.
	l.nc.SetWriteDeadline(time.Now().Add(writeTimeout))
	if _, err := l.nc.Write(b); err != nil {
		return fmt.Errorf("%w: write: %w", ErrConnectionLost, err)
	}
	return nil
}

// closeWith sends a close frame and waits briefly for the server's reply,
// so the closing handshake completes (and Discord sees the code).
func (l *link) closeWith(code gateway.CloseCode, reason string) {
	s := l.s
	s.conn.Close(code, reason)
	b := s.conn.Output()
	if len(b) == 0 {
		// The upgrade had not completed, so no close frame went out
		// and no reply will come.
		return
	}
	if l.write(b) != nil {
		return
	}
	// The wait for the peer is socket I/O: wall clock, not Config.Clock,
	// so a stopped fake clock cannot hold a closing shard.
	t := time.NewTimer(time.Second)
	defer t.Stop()
	if l.holding {
		// Read before the close: dispatches a RESUME replays, not the reply.
		l.held, l.holding = chunk{}, false
		l.r.ack <- struct{}{}
	}
	for {
		select {
		case c := <-l.r.chunks:
			if c.err != nil {
				return
			}
			l.r.ack <- struct{}{}
		case <-t.C:
			return
		}
	}
}

// dropSlot releases a held identify slot as failed.
func (l *link) dropSlot(err error) {
	if l.release != nil {
		if err == nil {
			err = errors.New("shard: connection ended before READY")
		}
		l.release(&identifyFailed{why: err.Error()})
		l.release = nil
	}
	if l.acquiring {
		// The acquiring goroutine gives back a slot it gets after the
		// connection ended; wait for it so nothing leaks.
		res := <-l.slot
		l.acquiring = false
		if res.release != nil {
			res.release(&identifyFailed{why: "connection ended while waiting for the slot"})
		}
	}
}

// identify sends IDENTIFY once the limiter gave a slot.
func (l *link) identify(res slotResult) (outcome, bool) {
	s := l.s
	if res.err != nil {
		return outcome{err: fmt.Errorf("shard: identify slot: %w", res.err)}, true
	}
	l.release = res.release
	if err := s.conn.Identify(); err != nil {
		return outcome{err: err}, true
	}
	now := s.cfg.Clock.Now()
	l.identAt = now
	l.limiter.record(now)
	s.update(func(st *statusState) { st.Identifies++ })
	s.log.Debug("shard: identifying")
	if err := l.flush(); err != nil {
		return outcome{err: err}, true
	}
	return outcome{}, false
}

// process feeds the queue from the Conn until it is full or the Conn needs
// more bytes, acting on every protocol event on the way; then writes what
// the Conn queued and sends what the limiter allows.
func (l *link) process(ctx context.Context) (outcome, bool) {
	s := l.s
	for {
		if s.pending != nil {
			if !s.push(*s.pending) {
				s.pause()
				break
			}
			s.pending = nil
		}
		if s.paused {
			s.resume()
			if !l.hello {
				l.helloBy = s.cfg.Clock.Now().Add(s.cfg.HelloTimeout)
			}
		}
		ev, err := s.conn.Next()
		if err != nil {
			l.flush()
			if errors.Is(err, gateway.ErrHandshake) {
				s.conn.DialFailed()
			}
			return outcome{err: err}, true
		}
		if ev == nil {
			if !l.holding {
				break
			}
			// The Conn has given all it had: now what was read meanwhile.
			c := l.held
			l.held, l.holding = chunk{}, false
			l.receive(c)
			l.r.ack <- struct{}{}
			continue
		}
		if out, done := l.event(ctx, ev); done {
			return out, true
		}
	}
	if err := l.flush(); err != nil {
		return outcome{err: err}, true
	}
	if err := l.sendPending(); err != nil {
		return outcome{err: err}, true
	}
	return outcome{}, false
}
