package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/ipcord/ipcord/metrics"
)

// ops is what a long-running subcommand shows operators: Prometheus
// metrics at /metrics and a health check at /healthz.
type ops struct {
	rec    *metrics.Recorder
	health *metrics.Health
}

func newOps() (*ops, error) {
	rec, err := metrics.New(metrics.Config{})
	if err != nil {
		return nil, err
	}
	return &ops{rec: rec, health: &metrics.Health{}}, nil
}

// mount adds GET /metrics and GET /healthz to mux.
func (o *ops) mount(mux *http.ServeMux) {
	mux.Handle("GET /metrics", o.rec.Handler())
	mux.Handle("GET /healthz", o.health)
}

// serve serves /metrics and /healthz on addr until stop is called; an
// empty addr serves nothing.
func (o *ops) serve(e *env, addr string) (stop func(), err error) {
	if addr == "" {
		return func() {}, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--metrics-addr: %w", err)
	}
	mux := http.NewServeMux()
	o.mount(mux)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan struct{})
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintf(e.stderr, "ipcord: metrics listener: %v\n", err)
		}
		close(done)
	}()
	fmt.Fprintf(e.stdout, "ipcord: metrics on http://%s/metrics, health on http://%s/healthz\n", ln.Addr(), ln.Addr())
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		<-done
	}, nil
}

// metricsAddrUsage is the help of every --metrics-addr flag.
const busyPollUsage = "how long a read polls an empty socket before parking (0: ipc's default, 200µs; negative, e.g. -1s: never)"

const metricsAddrUsage = "serve Prometheus metrics at /metrics and a health check at /healthz on this address"
