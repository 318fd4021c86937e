package shard

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/ipcord/ipcord/gateway"
	"github.com/ipcord/ipcord/internal/wsproto"
)

// outcome is how one connection ended.
type outcome struct {
	err  error // why it ended (nil for a clean stop)
	stop bool  // Run returns err
}

// loop runs connections until the shard stops.
func (s *Shard) loop(ctx context.Context) error {
	attempt := 0
	for n := 0; ; n++ {
		if n > 0 {
			s.update(func(st *statusState) { st.Reconnects++ })
		}
		s.update(func(st *statusState) { st.Connections++ })
		l := &link{s: s}
		out := l.run(ctx)
		if out.stop {
			return out.err
		}
		if s.conn.DecompressFailures() >= s.cfg.MaxDecompressFailures {
			s.log.Warn("shard: giving up: compressed stream undecodable on consecutive connections", "count", s.conn.DecompressFailures())
			return ErrDecompressFailures
		}
		s.update(func(st *statusState) { st.LastError = out.err })
		if l.gotGoing {
			attempt = 0
		} else {
			attempt++
		}
		d := s.cfg.Backoff.delay(attempt, s.cfg.Rand)
		s.log.Debug("shard: reconnecting", "after", d, "attempt", attempt, "err", out.err)
		s.setState(StateBackoff)
		req, closing, err := s.sleep(ctx, d)
		if err != nil {
			return err
		}
		if closing {
			if req.end {
				s.conn.Close(1000, "")
			}
			return nil
		}
	}
}

// link is one connection's life, run by the shard's loop goroutine.
type link struct {
	s  *Shard
	nc net.Conn
	r  *reader

	held      bool // a chunk was received but not acknowledged: reading paused
	hello     bool
	helloBy   time.Time
	interval  time.Duration
	gotGoing  bool // READY or RESUMED arrived
	identAt   time.Time
	acquiring bool
	slot      chan slotResult
	release   func(error)
	limiter   sendLimiter

	// Liveness is judged by the Conn (Tick), except while reading is
	// paused or just resumed: then the loop heartbeats by itself and
	// withholds the verdict (the Conn cannot be told to suspend it).
	readSinceBeat bool
	manualNext    time.Time
	graceUntil    time.Time
	lastBeat      time.Time
}

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
		return outcome{err: fmt.Errorf("shard: dial: %w", err)}
	}
	l.nc = nc
	if s.buf == nil {
		s.buf = make([]byte, readBufSize)
	}
	l.r = startReader(nc, s.buf)
	cctx, cancel := context.WithCancel(ctx)
	defer func() {
		cancel()
		l.r.stop()
		l.dropSlot(out.err)
	}()
	if err := l.write(d.Request); err != nil {
		s.conn.DialFailed()
		return outcome{err: err}
	}
	l.helloBy = time.Now().Add(s.cfg.HelloTimeout)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		if out, done := l.process(cctx); done {
			return out
		}
		timer.Reset(time.Until(l.wake()))
		select {
		case <-ctx.Done():
			l.closeWith(4000, "shutting down")
			return outcome{err: ctx.Err(), stop: true}
		case req := <-s.closeCh:
			code := gateway.CloseCode(4000)
			if req.end {
				code = 1000
			}
			l.closeWith(code, "closing")
			return outcome{stop: true}
		case c := <-l.r.chunks:
			if c.n > 0 {
				s.conn.Receive(s.buf[:c.n])
				l.readSinceBeat = true
			}
			if c.err != nil {
				// Take what the last bytes completed (a close frame, say),
				// then the connection is gone.
				if out, done := l.process(cctx); done {
					return out
				}
				if !l.hello {
					s.conn.DialFailed()
				}
				return outcome{err: fmt.Errorf("shard: connection lost: %w", c.err)}
			}
			if s.paused {
				l.held = true
			} else {
				l.r.ack <- struct{}{}
			}
		case <-timer.C:
			if out, done := l.timer(); done {
				return out
			}
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

// wake is when the timer must next fire.
func (l *link) wake() time.Time {
	s := l.s
	now := time.Now()
	t := now.Add(time.Hour)
	if !l.hello {
		t = l.helloBy
	}
	if !l.identAt.IsZero() && !l.gotGoing {
		t = earliest(t, l.identAt.Add(s.cfg.ReadyTimeout))
	}
	if dl, ok := s.conn.NextDeadline(); ok {
		if l.suspended(now) && !l.readSinceBeat {
			if l.manualNext.After(dl) {
				dl = l.manualNext
			}
			if !s.paused && l.graceUntil.Before(dl) {
				dl = l.graceUntil
			}
		}
		t = earliest(t, dl)
	}
	if len(s.sends) > 0 && l.gotGoing {
		if w := l.limiter.wait(now, l.interval); w > 0 {
			t = earliest(t, now.Add(w))
		}
	}
	return t
}

func earliest(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// suspended reports whether the zombie verdict is withheld: reading is
// paused, or was resumed less than an interval ago and the socket has not
// been read since.
func (l *link) suspended(now time.Time) bool {
	return l.s.paused || now.Before(l.graceUntil)
}

// timer handles the timer: HELLO and READY timeouts, heartbeats, zombies.
func (l *link) timer() (outcome, bool) {
	s := l.s
	now := time.Now()
	if !l.hello {
		if !now.Before(l.helloBy) {
			s.conn.DialFailed()
			return outcome{err: errHelloTimeout}, true
		}
		return outcome{}, false
	}
	if !l.identAt.IsZero() && !l.gotGoing && !now.Before(l.identAt.Add(s.cfg.ReadyTimeout)) {
		s.conn.Close(4000, "ready timeout")
		l.flush()
		return outcome{err: errReadyTimeout}, true
	}
	if dl, ok := s.conn.NextDeadline(); ok && !now.Before(dl) {
		if l.suspended(now) && !l.readSinceBeat {
			if !now.Before(l.manualNext) {
				var seq any
				if sq := s.conn.Session().Seq; sq > 0 {
					seq = sq
				}
				if err := s.conn.Send(gateway.OpHeartbeat, seq); err == nil {
					l.beat(now)
				}
				l.manualNext = now.Add(l.interval)
			}
		} else {
			switch s.conn.Tick(now) {
			case gateway.TickHeartbeat:
				l.beat(now)
				l.readSinceBeat = false
			case gateway.TickZombie:
				s.log.Debug("shard: zombie connection, dropping it")
				return outcome{err: errZombie}, true
			}
		}
	}
	return outcome{}, l.flushOr()
}

func (l *link) beat(now time.Time) {
	l.limiter.record(now)
	l.lastBeat = now
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
	l.nc.SetWriteDeadline(time.Now().Add(writeTimeout))
	if _, err := l.nc.Write(b); err != nil {
		return fmt.Errorf("shard: write: %w", err)
	}
	return nil
}

// closeWith sends a close frame and waits briefly for the server's reply,
// so the closing handshake completes (and Discord sees the code).
func (l *link) closeWith(code gateway.CloseCode, reason string) {
	s := l.s
	s.conn.Close(code, reason)
	if l.flush() != nil {
		return
	}
	t := time.NewTimer(time.Second)
	defer t.Stop()
	if l.held {
		l.held = false
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
	now := time.Now()
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
			if !s.q.push(*s.pending) {
				if !s.paused {
					s.paused = true
					s.update(func(st *statusState) { st.Pauses++ })
				}
				break
			}
			s.pending = nil
		}
		if s.paused {
			s.paused = false
			l.graceUntil = time.Now().Add(l.interval)
			if l.held {
				l.held = false
				l.r.ack <- struct{}{}
			}
		}
		ev, err := s.conn.Next()
		if err != nil {
			l.flush()
			if errors.Is(err, wsproto.ErrHandshake) {
				s.conn.DialFailed()
			}
			return outcome{err: err}, true
		}
		if ev == nil {
			break
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

// event acts on one event from the Conn.
func (l *link) event(ctx context.Context, ev gateway.Event) (outcome, bool) {
	s := l.s
	switch ev := ev.(type) {
	case *gateway.Hello:
		l.hello = true
		l.interval = ev.Interval
		if ev.Resuming {
			l.limiter.record(time.Now())
			s.setState(StateResuming)
			s.update(func(st *statusState) { st.Resumes++ })
			s.log.Debug("shard: resuming", "seq", s.conn.Session().Seq)
			return outcome{}, false
		}
		s.setState(StateIdentifying)
		l.acquiring = true
		l.slot = make(chan slotResult, 1)
		go func() {
			rel, err := s.cfg.Identify.Acquire(ctx, s.id)
			l.slot <- slotResult{rel, err}
		}()
	case *gateway.Ready:
		if l.release != nil {
			l.release(nil)
			l.release = nil
		}
		l.ready(ev.SessionID)
		s.enqueue(ev.Dispatch.Seq, "READY", ev.Dispatch.Data)
	case *gateway.Resumed:
		l.ready(s.conn.Session().ID)
		s.enqueue(ev.Seq, "RESUMED", nil)
	case *gateway.Dispatch:
		s.members.observe(ev)
		s.enqueue(ev.Seq, ev.Name, ev.Data)
	case *gateway.HeartbeatRequest:
		l.limiter.record(time.Now())
	case *gateway.HeartbeatACK:
		if !l.lastBeat.IsZero() {
			lat := time.Since(l.lastBeat)
			s.update(func(st *statusState) { st.Latency = lat })
		}
	case *gateway.Reconnect:
		s.log.Debug("shard: reconnect requested")
		s.conn.Close(4000, "reconnect requested")
		l.flush()
		return outcome{err: errReconnect}, true
	case *gateway.InvalidSession:
		s.log.Debug("shard: invalid session", "resumable", ev.Resumable)
		l.flush()
		return outcome{err: &InvalidSessionError{Resumable: ev.Resumable}}, true
	case *gateway.Closed:
		l.flush()
		if ev.Action == gateway.ActionStop {
			s.log.Warn("shard: stopped by the gateway", "code", int(ev.Code), "reason", ev.Reason)
			return outcome{err: &CloseError{Code: ev.Code, Reason: ev.Reason}, stop: true}, true
		}
		return outcome{err: fmt.Errorf("shard: closed by the gateway with %s", ev.Code)}, true
	}
	return outcome{}, false
}

// ready records a connection that got going.
func (l *link) ready(sessionID string) {
	s := l.s
	l.gotGoing = true
	s.session = sessionID
	sess := s.conn.Session()
	s.update(func(st *statusState) {
		st.State = StateReady
		st.session = sess
	})
	s.log.Debug("shard: ready")
}

// enqueue copies a dispatch into the queue, or holds it as pending.
func (s *Shard) enqueue(seq int64, name string, data json.RawMessage) {
	var cp json.RawMessage
	if data != nil {
		cp = append(json.RawMessage(nil), data...)
	}
	it := queued{ev: Event{Shard: s.id, Seq: seq, Name: name, Data: cp}, session: s.session}
	sess := s.conn.Session()
	s.update(func(st *statusState) {
		st.Seq = sess.Seq
		st.session = sess
	})
	if !s.q.push(it) {
		s.pending = &it
		if !s.paused {
			s.paused = true
			s.update(func(st *statusState) { st.Pauses++ })
		}
	}
}

var errReconnect = errors.New("shard: gateway asked for a reconnect (op 7)")

// InvalidSessionError is an INVALID_SESSION (op 9) that ended a
// connection; the shard resumes (Resumable) or identifies again.
type InvalidSessionError struct{ Resumable bool }

func (e *InvalidSessionError) Error() string {
	if e.Resumable {
		return "shard: invalid session (resumable)"
	}
	return "shard: invalid session"
}
