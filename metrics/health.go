package metrics

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"

	"github.com/ipcord/ipcord/gateway/shard"
)

// ErrUnhealthy is matched by the errors of the checks given here, so a
// program can tell them from its own.
var ErrUnhealthy = errors.New("metrics: unhealthy")

// Health is an http.Handler for GET /healthz: 200 with {"status":"ok"}
// while every check passes, 503 with {"status":"unhealthy"} when one
// fails, each check's result under "checks". Its zero value, without
// checks, answers 200: the process is up and serving HTTP.
type Health struct {
	mu     sync.Mutex
	names  []string
	checks map[string]func() error
}

// Add adds a check under name (replacing one of that name); it runs on
// every request, so it must be quick.
func (h *Health) Add(name string, check func() error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.checks == nil {
		h.checks = map[string]func() error{}
	}
	if _, ok := h.checks[name]; !ok {
		h.names = append(h.names, name)
	}
	h.checks[name] = check
}

// healthReport is the body Health answers.
type healthReport struct {
	Status string            `json:"status"`
	Checks map[string]string `json:"checks,omitempty"`
}

// ServeHTTP runs the checks and answers.
func (h *Health) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	h.mu.Lock()
	names := slices.Clone(h.names)
	checks := make([]func() error, len(names))
	for i, n := range names {
		checks[i] = h.checks[n]
	}
	h.mu.Unlock()
	rep := healthReport{Status: "ok"}
	status := http.StatusOK
	for i, n := range names {
		if rep.Checks == nil {
			rep.Checks = map[string]string{}
		}
		rep.Checks[n] = "ok"
		if err := checks[i](); err != nil {
			rep.Checks[n] = err.Error()
			rep.Status = "unhealthy"
			status = http.StatusServiceUnavailable
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(rep)
}

// ShardsRunning is a check that fails when a shard has stopped for good
// (its Run returned: a fatal close code, or the program closing it).
// Shards reconnecting are running: they recover on their own, and a
// restart would only spend identifies.
func ShardsRunning(status func() []shard.Status) func() error {
	return func() error {
		for _, st := range status() {
			if st.State == shard.StateStopped {
				if st.LastError != nil {
					return fmt.Errorf("%w: shard %d stopped: %v", ErrUnhealthy, st.ID, st.LastError)
				}
				return fmt.Errorf("%w: shard %d stopped", ErrUnhealthy, st.ID)
			}
		}
		return nil
	}
}
