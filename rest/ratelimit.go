package rest

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// limiter keeps Discord's rate-limit state: buckets learned from
// X-RateLimit-Bucket (several routes may share one), each split by the
// route's major parameter, and the global limit.
//
// A request holds its bucket for its whole round trip, so requests of one
// bucket go one at a time and each sees the remaining count the previous
// answer reported; requests of different buckets run in parallel.
type limiter struct {
	mu          sync.Mutex
	hashes      map[string]string  // "METHOD route" → bucket hash
	buckets     map[string]*bucket // hash (or "METHOD route") + "\x00" + major
	globalUntil time.Time

	perSecond   int       // client-side global limit; 0 is none
	windowStart time.Time // current one-second window
	windowUsed  int
}

type bucket struct {
	key       string
	sem       chan struct{}
	remaining int // -1 until a header says
	reset     time.Time
}

// maxIdleBuckets is when expired buckets start being swept: every
// interaction token is its own major parameter, so buckets would otherwise
// pile up for the life of the process.
const maxIdleBuckets = 512

func newLimiter() *limiter {
	return &limiter{hashes: map[string]string{}, buckets: map[string]*bucket{}}
}

// bucket returns the bucket for a route and major parameter.
func (l *limiter) bucket(routeKey, major string) *bucket {
	l.mu.Lock()
	defer l.mu.Unlock()
	id := routeKey
	if h, ok := l.hashes[routeKey]; ok {
		id = h
	}
	return l.bucketLocked(id + "\x00" + major)
}

func (l *limiter) bucketLocked(key string) *bucket {
	if b, ok := l.buckets[key]; ok {
		return b
	}
	if len(l.buckets) >= maxIdleBuckets {
		now := time.Now()
		for k, b := range l.buckets {
			if len(b.sem) == 0 && now.After(b.reset) {
				delete(l.buckets, k)
			}
		}
	}
	b := &bucket{key: key, sem: make(chan struct{}, 1), remaining: -1}
	l.buckets[key] = b
	return b
}

// acquire takes b and waits out the global limit and b's own; release
// gives b back.
func (l *limiter) acquire(ctx context.Context, b *bucket) (release func(), err error) {
	select {
	case b.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	release = func() { <-b.sem }
	for {
		l.mu.Lock()
		now := time.Now()
		var until time.Time
		if now.Before(l.globalUntil) {
			until = l.globalUntil
		} else if b.remaining == 0 && now.Before(b.reset) {
			until = b.reset
		}
		l.mu.Unlock()
		if until.IsZero() {
			return release, nil
		}
		if err := sleep(ctx, until.Sub(now)); err != nil {
			release()
			return nil, err
		}
		l.mu.Lock()
		if b.remaining == 0 && !time.Now().Before(b.reset) {
			b.remaining = -1 // the window passed; the next answer says the new count
		}
		l.mu.Unlock()
	}
}

// global waits for a slot of the client-side global limit: perSecond
// requests per one-second window.
func (l *limiter) global(ctx context.Context) error {
	for {
		l.mu.Lock()
		if l.perSecond <= 0 {
			l.mu.Unlock()
			return nil
		}
		now := time.Now()
		if now.Sub(l.windowStart) >= time.Second {
			l.windowStart, l.windowUsed = now, 0
		}
		if l.windowUsed < l.perSecond {
			l.windowUsed++
			l.mu.Unlock()
			return nil
		}
		wait := l.windowStart.Add(time.Second).Sub(now)
		l.mu.Unlock()
		if err := sleep(ctx, wait); err != nil {
			return err
		}
	}
}

// update records the rate-limit headers of an answer. When the answer names
// a bucket hash not yet known for the route, the state moves to the shared
// bucket, which is returned (b stays held by the caller until release).
func (l *limiter) update(routeKey, major string, b *bucket, h http.Header) *bucket {
	hash := h.Get("X-RateLimit-Bucket")
	l.mu.Lock()
	defer l.mu.Unlock()
	if hash != "" && l.hashes[routeKey] != hash {
		l.hashes[routeKey] = hash
		// Later calls of this route find the bucket under its hash. When
		// the hash is new, b itself becomes that bucket, so requests queued
		// on b and requests arriving later share one count.
		key := hash + "\x00" + major
		if shared, ok := l.buckets[key]; ok {
			setFromHeaders(shared, h)
		} else {
			l.buckets[key] = b
		}
	}
	setFromHeaders(b, h)
	return b
}

func setFromHeaders(b *bucket, h http.Header) {
	rem, err1 := strconv.Atoi(h.Get("X-RateLimit-Remaining"))
	after, err2 := strconv.ParseFloat(h.Get("X-RateLimit-Reset-After"), 64)
	if err1 != nil || err2 != nil {
		return
	}
	b.remaining = rem
	b.reset = time.Now().Add(seconds(after))
}

// limited records a 429: the global limit for a global one, else b is
// empty until retry_after passes.
func (l *limiter) limited(b *bucket, e *Error, h http.Header) {
	l.mu.Lock()
	defer l.mu.Unlock()
	until := time.Now().Add(e.RetryAfter)
	if e.Global {
		if until.After(l.globalUntil) {
			l.globalUntil = until
		}
		return
	}
	b.remaining = 0
	if until.After(b.reset) || h.Get("X-RateLimit-Reset-After") == "" {
		b.reset = until
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
