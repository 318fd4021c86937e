package demo

import (
	"net/http"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// fakeMetrics is what the fake itself did, served at GET /metrics so a
// test rig can graph the faults it injected next to the bot's recovery.
type fakeMetrics struct {
	reg        *prometheus.Registry
	faults     *prometheus.CounterVec
	dispatches prometheus.Counter
	messages   prometheus.Counter
	rest       *prometheus.CounterVec
}

func newFakeMetrics(f *Fake) *fakeMetrics {
	m := &fakeMetrics{
		reg: prometheus.NewRegistry(),
		faults: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ipcord_fake_faults_total", Help: "Faults injected through the control API, by name.",
		}, []string{"name"}),
		dispatches: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "ipcord_fake_dispatches_total", Help: "Events dispatched through the control API.",
		}),
		messages: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "ipcord_fake_user_messages_total", Help: "Messages sample users sent: background traffic and POST /_fake/message.",
		}),
		rest: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ipcord_fake_rest_requests_total", Help: "REST requests the fake answered, by status.",
		}, []string{"status"}),
	}
	m.reg.MustRegister(m.faults, m.dispatches, m.messages, m.rest,
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "ipcord_fake_gateway_connections_total", Help: "Gateway connections accepted.",
		}, func() float64 {
			cs := f.gw.Connections()
			if len(cs) == 0 {
				return 0
			}
			return float64(cs[len(cs)-1].Num)
		}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "ipcord_fake_gateway_sessions", Help: "Shards whose session has a live connection.",
		}, func() float64 {
			n := 0
			for sh := range f.cfg.Shards {
				if s, ok := f.gw.Session(sh); ok && s.Conn != 0 {
					n++
				}
			}
			return float64(n)
		}),
	)
	return m
}

func (m *fakeMetrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// countREST wraps the REST front, counting answers by status.
func (m *fakeMetrics) countREST(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		h.ServeHTTP(sw, r)
		m.rest.WithLabelValues(strconv.Itoa(sw.status)).Inc()
	})
}

// statusWriter remembers the status a handler wrote.
type statusWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote {
		w.status, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
