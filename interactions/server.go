package interactions

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// ErrClosed is returned by Serve after Shutdown.
var ErrClosed = errors.New("interactions: endpoint shut down")

// Serve answers requests on ln (any path; mount the Endpoint in a mux to
// choose one) until ctx ends or Shutdown is called, then stops accepting
// and waits up to 5 s for requests in flight. Listeners still running keep
// running until Shutdown. With Config.TLSConfig it serves HTTPS.
func (e *Endpoint) Serve(ctx context.Context, ln net.Listener) error {
	return e.serve(ctx, ln, e)
}

func (e *Endpoint) serve(ctx context.Context, ln net.Listener, h http.Handler) error {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          slog.NewLogLogger(e.log.Handler(), slog.LevelDebug),
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	if e.cfg.TLSConfig != nil {
		srv.TLSConfig = e.cfg.TLSConfig.Clone()
	}
	e.srvMu.Lock()
	if e.closed.Load() {
		e.srvMu.Unlock()
		ln.Close()
		return ErrClosed
	}
	e.servers[srv] = struct{}{}
	e.srvMu.Unlock()
	e.Prefetch()

	stop := context.AfterFunc(ctx, func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if srv.Shutdown(sctx) != nil {
			srv.Close() // connections still busy after the grace period
		}
	})
	defer stop()
	var err error
	if srv.TLSConfig != nil {
		err = srv.ServeTLS(ln, "", "")
	} else {
		err = srv.Serve(ln)
	}
	e.srvMu.Lock()
	delete(e.servers, srv)
	e.srvMu.Unlock()
	if errors.Is(err, http.ErrServerClosed) {
		if e.closed.Load() {
			return ErrClosed
		}
		return nil
	}
	return err
}

// ListenAndServe listens on the TCP address addr and calls Serve.
func (e *Endpoint) ListenAndServe(ctx context.Context, addr string) error {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	return e.Serve(ctx, ln)
}

// Shutdown stops the servers started by Serve (new requests to a mounted
// Endpoint get 503), waits for running listeners and deliveries until ctx
// ends, then cancels the rest and returns ctx's error.
func (e *Endpoint) Shutdown(ctx context.Context) error {
	e.srvMu.Lock()
	e.lmu.Lock()
	e.closed.Store(true)
	e.lmu.Unlock()
	servers := make([]*http.Server, 0, len(e.servers))
	for s := range e.servers {
		servers = append(servers, s)
	}
	e.srvMu.Unlock()
	for _, s := range servers {
		if err := s.Shutdown(ctx); err != nil {
			s.Close()
		}
	}
	done := make(chan struct{})
	go func() {
		e.listeners.Wait()
		close(done)
	}()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		err = ctx.Err()
	}
	// Canceled listeners return on their own; waiting for one that
	// ignores its context would make Shutdown unbounded.
	e.cancel()
	e.bg.Wait()
	return err
}
