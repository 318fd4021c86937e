package discordtest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// Fault makes the Server answer matching requests with an error instead
// of serving them.
type Fault struct {
	// Route selects requests as in the Route function ("POST /webhooks/*/*");
	// empty matches every request.
	Route string
	// Status is the answer's status (429, 500, 404...).
	Status int
	// RetryAfter goes in a 429's body and headers.
	RetryAfter time.Duration
	// Global marks a 429 as the global limit.
	Global bool
	// Times is how many requests the fault applies to; 0 means 1.
	Times int
}

// InjectFault queues f; faults are tried in the order injected.
func (s *Server) InjectFault(f Fault) {
	if f.Times == 0 {
		f.Times = 1
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &f)
}

// takeFault returns the first pending fault matching r, using it up.
func (s *Server) takeFault(r Request) *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, f := range s.faults {
		if f.Route != "" && !Route(f.Route)(r) {
			continue
		}
		f.Times--
		if f.Times == 0 {
			s.faults = append(s.faults[:i:i], s.faults[i+1:]...)
		}
		cp := *f
		return &cp
	}
	return nil
}

func writeFault(w http.ResponseWriter, f *Fault) {
	if f.Status == http.StatusTooManyRequests {
		secs := f.RetryAfter.Seconds()
		w.Header().Set("Retry-After", strconv.FormatFloat(secs, 'f', 3, 64))
		if f.Global {
			w.Header().Set("X-RateLimit-Global", "true")
			w.Header().Set("X-RateLimit-Scope", "global")
		} else {
			w.Header().Set("X-RateLimit-Scope", "user")
		}
		writeJSON(w, f.Status, map[string]any{"message": "You are being rate limited.", "retry_after": secs, "global": f.Global, "code": 0})
		return
	}
	writeError(w, f.Status, 0, fmt.Sprintf("%d: %s", f.Status, http.StatusText(f.Status)))
}

// RateLimit makes the Server enforce a per-route bucket — Limit requests
// per Window for each method and path — and send X-RateLimit-* headers, so
// a client's bucket handling can be checked. A request over the limit is
// answered 429 and counted in RateLimited.
type RateLimit struct {
	Limit  int
	Window time.Duration
}

type routeLimit struct {
	used  int
	reset time.Time
}

// SetRateLimit turns on bucket enforcement (a zero Limit turns it off).
func (s *Server) SetRateLimit(l RateLimit) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if l.Limit <= 0 {
		s.limit = nil
		return
	}
	s.limit = &l
	s.limits = map[string]*routeLimit{}
}

// RateLimited returns how many requests were refused by SetRateLimit's
// buckets: a client that follows the headers keeps it at zero.
func (s *Server) RateLimited() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.refused
}

// reportedLimit is the bucket every answer's headers describe when
// SetRateLimit has not turned enforcement on: generous, so that clients
// following the headers are not slowed, but present as on Discord.
var reportedLimit = RateLimit{Limit: 50, Window: time.Second}

// checkLimit applies the bucket of r, sets its X-RateLimit-* headers (on
// every answer, as Discord does), and reports whether r may proceed.
func (s *Server) checkLimit(w http.ResponseWriter, r Request) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	lim, enforce := s.limit, s.limit != nil
	if lim == nil {
		lim = &reportedLimit
	}
	key := r.Method + " " + r.Path
	now := s.now()
	b := s.limits[key]
	if b == nil || !now.Before(b.reset) {
		b = &routeLimit{reset: now.Add(lim.Window)}
		s.limits[key] = b
		s.pruneLimitsLocked(now)
	}
	sum := sha256.Sum256([]byte(key))
	h := w.Header()
	h.Set("X-RateLimit-Bucket", hex.EncodeToString(sum[:8]))
	h.Set("X-RateLimit-Limit", strconv.Itoa(lim.Limit))
	h.Set("X-RateLimit-Reset", strconv.FormatFloat(float64(b.reset.UnixMilli())/1000, 'f', 3, 64))
	h.Set("X-RateLimit-Reset-After", strconv.FormatFloat(b.reset.Sub(now).Seconds(), 'f', 3, 64))
	if b.used >= lim.Limit && enforce {
		s.refused++
		h.Set("X-RateLimit-Remaining", "0")
		h.Set("X-RateLimit-Scope", "user")
		writeJSON(w, http.StatusTooManyRequests, map[string]any{"message": "You are being rate limited.", "retry_after": b.reset.Sub(now).Seconds(), "global": false, "code": 0})
		return false
	}
	b.used++
	h.Set("X-RateLimit-Remaining", strconv.Itoa(max(lim.Limit-b.used, 0)))
	return true
}

// pruneLimitsLocked forgets buckets past their reset once there are many,
// so a fake that runs for days keeps few.
func (s *Server) pruneLimitsLocked(now time.Time) {
	if len(s.limits) < 1024 {
		return
	}
	for k, b := range s.limits {
		if !now.Before(b.reset) {
			delete(s.limits, k)
		}
	}
}
