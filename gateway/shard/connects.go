package shard

import (
	"sync"
	"time"
)

// DefaultConnectsPerMinute is a ConnectLimit's rate when PerMinute is 0:
// two connection attempts a second on average. A healthy process makes
// one per shard at start (the burst) and then one per shard every few
// hours; a storm makes thousands a second, which Discord answers by
// resetting the token.
const DefaultConnectsPerMinute = 120

// ConnectLimit caps the connection attempts (dials) of the shards that
// share it, so that however many shards reconnect at once, and however
// the network fails, a process never dials Discord in a storm. It is a
// token bucket: Burst attempts may go at once, then PerMinute a minute.
// An attempt over the limit waits its turn (Status says StateBackoff).
//
// Shards sharing one should share a Clock too. The zero value has the
// defaults; a Manager makes one for its shards whose Burst is at least
// its number of shards, so that all of them can start together.
type ConnectLimit struct {
	// PerMinute is the steady rate; DefaultConnectsPerMinute if 0.
	PerMinute int
	// Burst is how many attempts may go at once after a quiet spell;
	// PerMinute if 0.
	Burst int

	mu     sync.Mutex
	tokens float64 // attempts available; negative: reserved ahead
	last   time.Time
}

func (l *ConnectLimit) rate() float64 {
	if l.PerMinute > 0 {
		return float64(l.PerMinute) / 60
	}
	return DefaultConnectsPerMinute / 60.0
}

func (l *ConnectLimit) burst() float64 {
	if l.Burst > 0 {
		return float64(l.Burst)
	}
	return l.rate() * 60
}

// reserve takes one attempt at now and returns how long the caller must
// wait before making it (0: at once). Reservations queue: each later
// caller waits one more interval.
func (l *ConnectLimit) reserve(now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.last.IsZero() {
		l.tokens, l.last = l.burst(), now
	}
	if el := now.Sub(l.last); el > 0 {
		l.tokens = min(l.burst(), l.tokens+el.Seconds()*l.rate())
		l.last = now
	}
	l.tokens--
	if l.tokens >= 0 {
		return 0
	}
	return time.Duration(-l.tokens / l.rate() * float64(time.Second))
}
