package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/ipcord/ipcord/cmd/ipcord/internal/cmdline"
	"github.com/ipcord/ipcord/ipc"
)

func init() {
	register(&command{name: "serve", summary: "run an IPC server with diagnostic routes", run: runServe})
}

func runServe(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "serve", "[--addr HOST:PORT] --secret S [--name N] [--discovery-addr HOST:PORT] [--tls-cert F --tls-key F] [--metrics-addr HOST:PORT] | --nats URL --cluster NAME")
	addr := fs.String("addr", "127.0.0.1:8765", "address to listen on")
	sec := fs.String("secret", "", "shared secret clients must present (default $IPCORD_SECRET)")
	name := fs.String("name", "server", "server name announced to clients")
	discAddr := fs.String("discovery-addr", "", "also serve discovery on this address (the Python libraries use 20000)")
	tlsCert := fs.String("tls-cert", "", "certificate chain (PEM): serve wss:// (and https:// discovery)")
	tlsKey := fs.String("tls-key", "", "private key (PEM) of --tls-cert")
	dialectTimeout := fs.Duration("dialect-timeout", 30*time.Second, "deadline of requests from the Python dialects, which carry none")
	metricsAddr := fs.String("metrics-addr", "", metricsAddrUsage)
	busyPoll := fs.Duration("busy-poll", 0, busyPollUsage)
	nf := addNATSFlags(fs, "with --nats: the cluster name this process joins as (required)")
	if _, err := fs.Parse(args); err != nil {
		return err
	}
	o, err := newOps()
	if err != nil {
		return err
	}
	if *nf.url != "" {
		if *nf.cluster == "" {
			return fs.Fail("--nats needs --cluster NAME")
		}
		return serveNATS(ctx, e, nf, o, *metricsAddr)
	}
	if *dialectTimeout <= 0 {
		return fmt.Errorf("--dialect-timeout must be positive")
	}
	if (*tlsCert == "") != (*tlsKey == "") {
		return fmt.Errorf("--tls-cert and --tls-key go together")
	}
	s, err := secretFrom(e, *sec)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := &ipc.Server{Router: cmdline.DiagnosticRouter(nil), Secret: s, Name: *name, TLS: ipc.TLS{CertFile: *tlsCert, KeyFile: *tlsKey},
		DialectTimeout: *dialectTimeout, BusyPoll: *busyPoll}
	// Forwarding lets `ipcord call --client ID` reach the clients (bots)
	// connected here, whatever dialect they speak.
	if err := srv.Router.Handle(ipc.ForwardRoute, ipc.Forwarder(srv)); err != nil {
		ln.Close()
		return err
	}
	if err := o.rec.IPCServer(srv); err != nil {
		ln.Close()
		return err
	}
	stopOps, err := o.serve(e, *metricsAddr)
	if err != nil {
		ln.Close()
		return err
	}
	defer stopOps()
	scheme := "ws"
	if *tlsCert != "" {
		scheme = "wss"
	}
	if *discAddr != "" {
		stop, err := startDiscovery(e, *discAddr, srv)
		if err != nil {
			ln.Close()
			return err
		}
		defer stop()
	}
	fmt.Fprintf(e.stdout, "ipcord: serving %q on %s://%s (routes: %v)\n", *name, scheme, ln.Addr(), srv.Router.Routes())
	return serveUntilDone(ctx, srv, ln)
}

// startDiscovery serves discovery for srv on addr (over TLS when srv has
// it) until stop is called.
func startDiscovery(e *env, addr string, srv *ipc.Server) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	d := &ipc.Discovery{Secret: srv.Secret, TLS: srv.TLS}
	d.Add(srv)
	scheme := "http"
	if srv.TLS != (ipc.TLS{}) {
		scheme = "https"
	}
	fmt.Fprintf(e.stdout, "ipcord: discovery on %s://%s\n", scheme, ln.Addr())
	done := make(chan struct{})
	go func() { d.Serve(ln); close(done) }()
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		d.Shutdown(ctx)
		<-done
	}, nil
}

// serveUntilDone serves until ctx ends (SIGINT/SIGTERM), then shuts down
// gracefully.
func serveUntilDone(ctx context.Context, srv *ipc.Server, ln net.Listener) error {
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	srv.Shutdown(sctx)
	if err := <-errc; !errors.Is(err, ipc.ErrClosed) {
		return err
	}
	return nil
}

// secretFrom returns the secret from the flag or $IPCORD_SECRET.
func secretFrom(e *env, flagValue string) (string, error) {
	if flagValue != "" {
		return flagValue, nil
	}
	if s := e.getenv("IPCORD_SECRET"); s != "" {
		return s, nil
	}
	return "", fmt.Errorf("no secret: pass --secret or set IPCORD_SECRET")
}
