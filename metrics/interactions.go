package metrics

import (
	"net/http"
	"strconv"

	"github.com/ipcord/ipcord/interactions"
)

// Interactions records the endpoint's defers, late answers and listener
// failures: it sets cfg's OnDefer, OnLateAnswer and OnError to count them
// and then call the ones cfg had. Call it before interactions.New(*cfg).
func (r *Recorder) Interactions(cfg *interactions.Config) {
	onDefer, onLate, onError := cfg.OnDefer, cfg.OnLateAnswer, cfg.OnError
	cfg.OnDefer = func(ev *interactions.Event) {
		r.intDeferred.Inc()
		if onDefer != nil {
			onDefer(ev)
		}
	}
	cfg.OnLateAnswer = func(ev *interactions.Event, err error) {
		result := "delivered"
		if err != nil {
			result = "failed"
		}
		r.intLate.WithLabelValues(result).Inc()
		if onLate != nil {
			onLate(ev, err)
		}
	}
	cfg.OnError = func(ev *interactions.Event, err error) {
		r.intErrors.Inc()
		if onError != nil {
			onError(ev, err)
		}
	}
}

// InteractionsHandler returns h (the interactions endpoint) counting each
// answer by HTTP status (interactions_requests_total): 200 answered, 202
// answered through the callback, 401 a bad signature, 413 too large...
func (r *Recorder) InteractionsHandler(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		sw := &statusWriter{ResponseWriter: w}
		h.ServeHTTP(sw, req)
		if sw.status == 0 {
			sw.status = http.StatusOK
		}
		r.intRequests.WithLabelValues(strconv.Itoa(sw.status)).Inc()
	})
}

// statusWriter remembers the status a handler wrote.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
