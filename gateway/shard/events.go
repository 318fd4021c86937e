package shard

import (
	"context"
	"time"

	"github.com/ipcord/ipcord/gateway"
)

// event acts on one event from the Conn.
func (l *link) event(ctx context.Context, ev gateway.Event) (outcome, bool) {
	s := l.s
	switch ev := ev.(type) {
	case *gateway.Hello:
		l.hello = true
		l.interval = ev.Interval
		if ev.Resuming {
			l.limiter.record(s.cfg.Clock.Now())
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
		s.enqueue(&ev.Dispatch, l.readAt)
	case *gateway.Resumed:
		l.ready(s.conn.Session().ID)
		s.enqueue(&gateway.Dispatch{Seq: ev.Seq, Name: "RESUMED"}, l.readAt)
	case *gateway.Dispatch:
		s.members.observe(ev)
		s.enqueue(ev, l.readAt)
	case *gateway.HeartbeatRequest:
		l.limiter.record(s.cfg.Clock.Now())
	case *gateway.HeartbeatACK:
		if !l.lastBeat.IsZero() {
			now := s.cfg.Clock.Now()
			lat := now.Sub(l.lastBeat)
			s.update(func(st *statusState) { st.Latency, st.LastACK = lat, now })
		}
	case *gateway.Reconnect:
		s.log.Debug("shard: reconnect requested")
		s.conn.Close(4000, "reconnect requested")
		l.flush()
		return outcome{err: ErrReconnectRequested}, true
	case *gateway.InvalidSession:
		s.log.Debug("shard: invalid session", "resumable", ev.Resumable)
		l.flush()
		return outcome{err: &InvalidSessionError{Resumable: ev.Resumable}}, true
	case *gateway.Closed:
		l.flush()
		s.update(func(st *statusState) { st.LastCloseCode = ev.Code })
		if ev.Action == gateway.ActionStop {
			s.log.Warn("shard: stopped by the gateway", "code", int(ev.Code), "reason", ev.Reason)
			return outcome{err: &CloseError{Code: ev.Code, Reason: ev.Reason}, stop: true}, true
		}
		return outcome{err: &CloseError{Code: ev.Code, Reason: ev.Reason}}, true
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
	s.goingOnce.Do(func() { close(s.going) })
	s.log.Debug("shard: ready")
}

// enqueue copies a dispatch received at at into the queue, or holds it as
// pending.
func (s *Shard) enqueue(d *gateway.Dispatch, at time.Time) {
	cp := d.Clone()
	it := queued{ev: Event{Shard: s.id, Session: s.session, Seq: cp.Seq, Name: cp.Name, Data: cp.Data, Received: at, src: cp}}
	sess := s.conn.Session()
	s.update(func(st *statusState) {
		st.Seq = sess.Seq
		st.session = sess
	})
	if !s.push(it) {
		// A copy, so that it stays on the stack on the usual path.
		p := it
		s.pending = &p
		s.pause()
	}
}

// pause stops reading the socket because the event queue is full; the
// Conn keeps heartbeating but withholds its zombie verdict meanwhile.
func (s *Shard) pause() {
	if s.paused {
		return
	}
	s.paused = true
	s.conn.PauseReading(true)
	s.update(func(st *statusState) { st.Pauses++ })
}

// resume reads the socket again; the Conn gives the connection a full
// heartbeat interval to show it is alive.
func (s *Shard) resume() {
	s.paused = false
	s.conn.PauseReading(false)
}

// InvalidSessionError is an INVALID_SESSION (op 9) that ended a
// connection; the shard resumes (Resumable) or identifies again.
type InvalidSessionError struct{ Resumable bool }

func (e *InvalidSessionError) Error() string {
	if e.Resumable {
		return "shard: invalid session (resumable)"
	}
	return "shard: invalid session"
}
