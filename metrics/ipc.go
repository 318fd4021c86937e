package metrics

import (
	"context"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ipcord/ipcord/ipc"
)

// unknownRoute is the route label of requests for a route the server does
// not have: the name a caller sent is not a label, or callers could grow
// the label set without bound.
const unknownRoute = "(unknown)"

// IPCHooks returns hooks that count the requests a server named server
// serves from router (a route router lacks, nil included, counts as
// "(unknown)"), chained before next's (nil for none). Give them to an
// ipc.Server, an ipc.Client that serves routes, or a natsipc node;
// IPCServer does it for a Server.
func (r *Recorder) IPCHooks(server string, router *ipc.Router, next *ipc.Hooks) *ipc.Hooks {
	if next == nil {
		next = &ipc.Hooks{}
	}
	// The series of each route, looked up once: a label lookup costs more
	// than the counting itself.
	var routes sync.Map // route label -> *routeSeries
	series := func(route string) *routeSeries {
		if s, ok := routes.Load(route); ok {
			return s.(*routeSeries)
		}
		s, _ := routes.LoadOrStore(route, &routeSeries{
			calls:   r.ipcCalls.WithLabelValues(server, route),
			latency: r.ipcLatency.WithLabelValues(server, route),
		})
		return s.(*routeSeries)
	}
	return &ipc.Hooks{
		OnRequest: next.OnRequest,
		OnComplete: func(ctx context.Context, req *ipc.Request, took time.Duration, err error) {
			route := unknownRoute
			if router != nil {
				if _, ok := router.Lookup(req.Route); ok {
					route = req.Route
				}
			}
			s := series(route)
			s.calls.Inc()
			if route != unknownRoute {
				s.latency.Observe(took.Seconds())
			}
			if err != nil {
				r.ipcErrors.WithLabelValues(server, route, ipc.AsError(err).Code).Inc()
			}
			if next.OnComplete != nil {
				next.OnComplete(ctx, req, took, err)
			}
		},
		OnError: next.OnError,
	}
}

// routeSeries are one route's call counter and latency histogram.
type routeSeries struct {
	calls   prometheus.Counter
	latency prometheus.Observer
}

// IPCServer records srv's requests (its Hooks become IPCHooks chained
// before the ones it had) and its open connections, under the label
// server=srv.Name ("server" when empty). Call it before srv serves.
func (r *Recorder) IPCServer(srv *ipc.Server) error {
	name := srv.Name
	if name == "" {
		name = "server"
	}
	g := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "ipcord_ipc_connections", Help: "Open IPC connections past their first message, every dialect.",
		ConstLabels: prometheus.Labels{"server": name},
	}, func() float64 { return float64(srv.Connections()) })
	if err := r.register(g); err != nil {
		return err
	}
	srv.Hooks = r.IPCHooks(name, srv.Router, srv.Hooks)
	return nil
}
