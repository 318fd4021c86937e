package shard

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// IdentifyLimiter hands out IDENTIFY slots under Discord's rules: bucket
// shard_id % max_concurrency, one IDENTIFY per bucket at a time, the next
// no sooner than 5 s after the previous one and not before that one got
// READY or failed; and the daily session start budget. RESUME never takes
// a slot.
//
// LocalLimiter implements it in memory for the shards of one process;
// shards spread over processes share one through a store (natsipc's
// JetStream KV implementation).
type IdentifyLimiter interface {
	// Acquire blocks until shardID may IDENTIFY now, or ctx ends. The
	// caller must call release exactly once: with nil when READY arrived,
	// with the reason otherwise (closed, INVALID_SESSION, READY timeout).
	Acquire(ctx context.Context, shardID int) (release func(err error), err error)
}

// Budget is the daily session start limit (Get Gateway Bot's
// session_start_limit).
type Budget struct {
	Remaining int       // session starts left until ResetAt
	Total     int       // what Remaining becomes at ResetAt
	ResetAt   time.Time // when the budget refills
	Reset     time.Duration
}

// Default identify rules.
const (
	DefaultIdentifyInterval = 5 * time.Second
	DefaultIdentifyTimeout  = 30 * time.Second
)

// LocalLimiter is an in-memory IdentifyLimiter. The zero value is one
// bucket with Discord's intervals and no budget tracking.
type LocalLimiter struct {
	// MaxConcurrency is the number of buckets (Get Gateway Bot's
	// max_concurrency); 0 means 1.
	MaxConcurrency int
	// Interval is the minimum gap between IDENTIFYs of a bucket;
	// DefaultIdentifyInterval if 0.
	Interval time.Duration
	// Timeout is how long a slot waits for its release before counting
	// the IDENTIFY as failed; DefaultIdentifyTimeout if 0.
	Timeout time.Duration
	// Budget, when set, is spent by every slot handed out; at zero,
	// Acquire waits for ResetAt (then refills Remaining to Total and
	// moves ResetAt on by Reset, a day if 0), or fails with
	// ErrIdentifyBudget when ctx would end first.
	Budget *Budget
	// Clock times the intervals, timeouts and budget resets; nil means
	// the system clock. Give it the shards' Clock.
	Clock Clock

	mu      sync.Mutex
	buckets map[int]*identBucket
	changed chan struct{}
}

type identBucket struct {
	busy bool      // a slot is out, awaiting release
	gen  int       // which slot is out
	last time.Time // when the last slot was handed out
}

// Acquire implements IdentifyLimiter.
func (l *LocalLimiter) Acquire(ctx context.Context, shardID int) (func(error), error) {
	if shardID < 0 {
		return nil, fmt.Errorf("%w: negative shard id %d", ErrConfig, shardID)
	}
	interval, timeout := l.Interval, l.Timeout
	if interval <= 0 {
		interval = DefaultIdentifyInterval
	}
	if timeout <= 0 {
		timeout = DefaultIdentifyTimeout
	}
	key := shardID % max(l.MaxConcurrency, 1)
	clock := clockOr(l.Clock)
	for {
		l.mu.Lock()
		if l.buckets == nil {
			l.buckets = map[int]*identBucket{}
			l.changed = make(chan struct{})
		}
		b := l.buckets[key]
		if b == nil {
			b = &identBucket{}
			l.buckets[key] = b
		}
		now := clock.Now()
		wait := time.Duration(0)
		if b.busy {
			// A slot that is never released frees the bucket after timeout.
			if d := b.last.Add(timeout).Sub(now); d > 0 {
				wait = d
			} else {
				b.busy = false
			}
		}
		if !b.last.IsZero() {
			wait = max(wait, b.last.Add(interval).Sub(now))
		}
		if wait <= 0 && l.Budget != nil {
			bu := l.Budget
			if !bu.ResetAt.IsZero() && !now.Before(bu.ResetAt) {
				bu.Remaining = bu.Total
				reset := bu.Reset
				if reset <= 0 {
					reset = 24 * time.Hour
				}
				for !now.Before(bu.ResetAt) {
					bu.ResetAt = bu.ResetAt.Add(reset)
				}
			}
			if bu.Remaining <= 0 {
				wait = bu.ResetAt.Sub(now)
				if bu.ResetAt.IsZero() {
					l.mu.Unlock()
					return nil, ErrIdentifyBudget
				}
				// ctx's deadline is on the wall clock and ResetAt on
				// Clock: compare what is left of each.
				if dl, ok := ctx.Deadline(); ok && time.Until(dl) < bu.ResetAt.Sub(now) {
					l.mu.Unlock()
					return nil, fmt.Errorf("%w: resets at %s", ErrIdentifyBudget, bu.ResetAt.Format(time.RFC3339))
				}
			}
		}
		if wait <= 0 {
			if l.Budget != nil {
				l.Budget.Remaining--
			}
			b.busy = true
			b.gen++
			b.last = now
			gen := b.gen
			l.mu.Unlock()
			var once sync.Once
			return func(error) {
				once.Do(func() { l.release(key, gen) })
			}, nil
		}
		ch := l.changed
		l.mu.Unlock()
		t := clock.TimerAt(now.Add(wait))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-ch:
			t.Stop()
		case <-t.C():
		}
	}
}

func (l *LocalLimiter) release(key, gen int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[key]
	if b.busy && b.gen == gen {
		b.busy = false
		close(l.changed)
		l.changed = make(chan struct{})
	}
}
