package metrics

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// ErrRegistered is returned (wrapped) when something is observed twice
// under the same labels, for example two servers with one name.
var ErrRegistered = errors.New("metrics: already registered")

// DefaultBuckets are the IPC latency histogram's upper bounds, in seconds:
// from 100 µs, where a local call lands, to 10 s.
var DefaultBuckets = []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// Config configures a Recorder; the zero value works.
type Config struct {
	// Registry receives the metrics. Nil makes one of the Recorder's own,
	// and Handler then also serves the Go runtime and process collectors
	// (from a registry beside it, so that reading Registry stays cheap).
	Registry *prometheus.Registry
	// Buckets are the IPC latency histogram's bounds in seconds; nil
	// means DefaultBuckets.
	Buckets []float64
	// Now is the clock for ages (shard_last_ack_age_seconds); nil means
	// time.Now. It must be the clock the shards were given.
	Now func() time.Time
}

// Recorder records ipcord's metrics in a Prometheus registry. Its methods
// are safe for concurrent use.
type Recorder struct {
	reg     *prometheus.Registry
	runtime *prometheus.Registry // the Go and process collectors, or nil
	now     func() time.Time

	ipcCalls    *prometheus.CounterVec
	ipcErrors   *prometheus.CounterVec
	ipcLatency  *prometheus.HistogramVec
	shardEvents *prometheus.CounterVec

	intRequests *prometheus.CounterVec
	intDeferred prometheus.Counter
	intLate     *prometheus.CounterVec
	intErrors   prometheus.Counter
}

// New returns a Recorder whose IPC and interactions metrics are
// registered; shards and connections are added by Shards and IPCServer.
func New(cfg Config) (*Recorder, error) {
	r := &Recorder{reg: cfg.Registry, now: cfg.Now}
	if r.reg == nil {
		r.reg = prometheus.NewRegistry()
		r.runtime = prometheus.NewRegistry()
		r.runtime.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	buckets := cfg.Buckets
	if buckets == nil {
		buckets = DefaultBuckets
	}
	if r.now == nil {
		r.now = time.Now
	}
	r.ipcCalls = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ipcord_ipc_calls_total", Help: "IPC requests served, refused ones included.",
	}, []string{"server", "route"})
	r.ipcErrors = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ipcord_ipc_errors_total", Help: "IPC requests that failed, by ipc error code.",
	}, []string{"server", "route", "code"})
	r.ipcLatency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "ipcord_ipc_call_duration_seconds", Help: "Time IPC handlers took, from the request to the result.",
		Buckets: buckets,
	}, []string{"server", "route"})
	r.shardEvents = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ipcord_shard_events_total", Help: "Gateway dispatches handled, by shard and event name.",
	}, []string{"shard", "type"})
	r.intRequests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ipcord_interactions_requests_total", Help: "HTTP requests the interactions endpoint answered, by status.",
	}, []string{"status"})
	r.intDeferred = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "ipcord_interactions_deferred_total", Help: "Interactions the endpoint deferred because the listener had not answered in time.",
	})
	r.intLate = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ipcord_interactions_late_answers_total", Help: "Listener answers that came after a defer, by result (delivered, failed).",
	}, []string{"result"})
	r.intErrors = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "ipcord_interactions_listener_errors_total", Help: "Listener failures and failed deliveries.",
	})
	for _, c := range []prometheus.Collector{r.ipcCalls, r.ipcErrors, r.ipcLatency, r.shardEvents, r.intRequests, r.intDeferred, r.intLate, r.intErrors} {
		if err := r.register(c); err != nil {
			return nil, err
		}
	}
	return r, nil
}

func (r *Recorder) register(c prometheus.Collector) error {
	if err := r.reg.Register(c); err != nil {
		return fmt.Errorf("%w: %w", ErrRegistered, err)
	}
	return nil
}

// Registry is where ipcord's metrics live: register a program's own there,
// or Gather it to show the numbers in a page of its own.
func (r *Recorder) Registry() *prometheus.Registry { return r.reg }

// Handler serves the metrics in Prometheus's exposition format: mount it
// at GET /metrics.
func (r *Recorder) Handler() http.Handler {
	var g prometheus.Gatherer = r.reg
	if r.runtime != nil {
		g = prometheus.Gatherers{r.reg, r.runtime}
	}
	return promhttp.HandlerFor(g, promhttp.HandlerOpts{})
}
