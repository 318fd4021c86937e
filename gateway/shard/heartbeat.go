package shard

import (
	"time"

	"github.com/ipcord/ipcord/gateway"
)

// wake is when the timer must next fire, seen at now.
func (l *link) wake(now time.Time) time.Time {
	s := l.s
	t := now.Add(time.Hour)
	if !l.hello && !s.paused {
		t = l.helloBy
	}
	if !l.identAt.IsZero() && !l.gotGoing {
		t = earliest(t, l.identAt.Add(s.cfg.ReadyTimeout))
	}
	if dl, ok := s.conn.NextDeadline(); ok {
		t = earliest(t, dl)
	}
	if len(s.sends) > 0 && l.gotGoing {
		// Also when the wait is already over: the window may have moved
		// since sendPending looked, and the payloads must not sit until
		// some other event wakes the loop.
		t = earliest(t, now.Add(l.limiter.wait(now, l.interval)))
	}
	return t
}

func earliest(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// timer handles the timer: HELLO and READY timeouts, heartbeats, zombies.
func (l *link) timer() (outcome, bool) {
	s := l.s
	now := s.cfg.Clock.Now()
	if !l.hello {
		// An event from the last connection still waiting for room in
		// the queue holds HELLO back; that is no fault of this one.
		if s.paused {
			l.helloBy = now.Add(s.cfg.HelloTimeout)
		} else if !now.Before(l.helloBy) {
			s.conn.DialFailed()
			return outcome{err: ErrHelloTimeout}, true
		}
		return outcome{}, false
	}
	if !l.identAt.IsZero() && !l.gotGoing && !now.Before(l.identAt.Add(s.cfg.ReadyTimeout)) {
		s.conn.Close(4000, "ready timeout")
		l.flush()
		return outcome{err: ErrReadyTimeout}, true
	}
	if dl, ok := s.conn.NextDeadline(); ok && !now.Before(dl) {
		// While reading is paused the Conn heartbeats without judging the
		// connection (Shard.pause tells it so).
		switch s.conn.Tick(now) {
		case gateway.TickHeartbeat:
			l.beat(now)
		case gateway.TickZombie:
			s.log.Debug("shard: zombie connection, dropping it")
			return outcome{err: ErrZombie}, true
		}
	}
	return outcome{}, l.flushOr()
}

func (l *link) beat(now time.Time) {
	l.limiter.record(now)
	l.lastBeat = now
}
