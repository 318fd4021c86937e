package transport

import (
	"sync"
	"sync/atomic"
	"time"
)

// Where a handler runs: the goroutine that read the request runs it
// itself when the route's handlers are fast, since waking another
// goroutine costs about as much as a small handler; slow routes run
// elsewhere, in parallel. Both the native connection and natsipc decide
// this way, and both watch the handlers they run inline: one that gets
// stuck has the reading handed to a new goroutine, and its route is
// marked slow (Stalled).

// InlineMax is the average handler duration under which a route runs on
// the reading goroutine: about what a hand-off to another goroutine
// costs.
const InlineMax = 20 * time.Microsecond

// sampleInline is how often an inline handler is timed: reading the clock
// costs about a tenth of a small handler, and a route that slows down a
// lot is caught by the watchdog anyway.
const sampleInline = 16

// RouteStats is what a transport learned about how long each route's
// handlers take. The zero value is ready to use.
type RouteStats struct {
	mu sync.Mutex // serializes writers
	m  atomic.Pointer[map[string]*RouteStat]
}

// Get returns the statistics of route, creating them on first use.
// Callers pass routes of the Router only, so the map stays bounded.
func (s *RouteStats) Get(route string) *RouteStat {
	if m := s.m.Load(); m != nil {
		if st, ok := (*m)[route]; ok {
			return st
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var old map[string]*RouteStat
	if m := s.m.Load(); m != nil {
		old = *m
	}
	if st, ok := old[route]; ok {
		return st
	}
	m := make(map[string]*RouteStat, len(old)+1)
	for k, v := range old {
		m[k] = v
	}
	st := &RouteStat{}
	m[route] = st
	s.m.Store(&m)
	return st
}

// RouteStat is what a transport learned about one route: a moving
// average of its handlers' durations.
type RouteStat struct {
	avg   atomic.Int64 // nanoseconds
	calls atomic.Uint32
}

// Timed reports whether this inline run should be timed (one in
// sampleInline is).
func (s *RouteStat) Timed() bool { return s.calls.Add(1)%sampleInline == 0 }

// Record adds one handler duration to the average. Concurrent updates
// may lose one another; the average only steers where handlers run.
func (s *RouteStat) Record(d time.Duration) {
	a := s.avg.Load()
	s.avg.Store(a + (int64(d)-a)/8)
}

// Inline reports whether the route's handlers are fast enough to run on
// the reading goroutine.
func (s *RouteStat) Inline() bool { return s.avg.Load() < int64(InlineMax) }

// Stalled records that a handler of the route ran inline for d without
// returning, so that the route's next calls run elsewhere until handlers
// timed there bring the average back down.
func (s *RouteStat) Stalled(d time.Duration) {
	s.avg.Store(max(s.avg.Load(), int64(d)))
}
