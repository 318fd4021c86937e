package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/ipcord/ipcord/cmd/ipcord/internal/cmdline"
	"github.com/ipcord/ipcord/ipc"
	"github.com/ipcord/ipcord/ipc/natsipc"
	"github.com/ipcord/ipcord/metrics"
	"github.com/nats-io/nats.go"
)

// `ipcord serve --nats URL --cluster NAME` and `ipcord call --nats URL
// [--cluster NAME | --all]` are serve and call over NATS (ipc/natsipc):
// the same diagnostic routes, served by a named cluster, called on any
// instance, one cluster, or all of them.

// natsFlags are the NATS flags serve and call share. Auth and TLS are
// NATS's own: a credentials file, or user:password in the URL, and TLS
// files.
type natsFlags struct {
	url, cluster, prefix, creds, ca, cert, key *string
}

func addNATSFlags(fs *cmdline.Flags, clusterUsage string) natsFlags {
	return natsFlags{
		url:     fs.String("nats", "", "serve or call over NATS at this URL (comma-separated URLs for a NATS cluster)"),
		cluster: fs.String("cluster", "", clusterUsage),
		prefix:  fs.String("nats-prefix", "ipcord", "with --nats: subject prefix shared by the clusters"),
		creds:   fs.String("nats-creds", "", "with --nats: credentials file (JWT + nkey)"),
		ca:      fs.String("nats-ca", "", "with --nats: CA certificate file (PEM) to verify the NATS server"),
		cert:    fs.String("nats-cert", "", "with --nats: client certificate file (PEM, with --nats-key)"),
		key:     fs.String("nats-key", "", "with --nats: client key file (PEM, with --nats-cert)"),
	}
}

// dial connects to NATS as name, reconnecting for ever.
func (f natsFlags) dial(name string) (*nats.Conn, error) {
	opts, err := f.options()
	if err != nil {
		return nil, err
	}
	nc, err := nats.Connect(*f.url, append([]nats.Option{nats.MaxReconnects(-1), nats.Name("ipcord " + name)}, opts...)...)
	if err != nil {
		return nil, fmt.Errorf("connecting to NATS at %s: %w\n%s", *f.url, err, natsHint)
	}
	return nc, nil
}

// connect joins NATS as a node with cfg.
func (f natsFlags) connect(cfg natsipc.Config) (*natsipc.Node, error) {
	cfg.Prefix = *f.prefix
	opts, err := f.options()
	if err != nil {
		return nil, err
	}
	node, err := natsipc.Connect(*f.url, cfg, opts...)
	if err != nil {
		return nil, fmt.Errorf("%w\n%s", err, natsHint)
	}
	return node, nil
}

// options are the NATS options of the auth and TLS flags.
func (f natsFlags) options() ([]nats.Option, error) {
	var opts []nats.Option
	if *f.creds != "" {
		opts = append(opts, nats.UserCredentials(*f.creds))
	}
	if *f.ca != "" {
		opts = append(opts, nats.RootCAs(*f.ca))
	}
	if (*f.cert == "") != (*f.key == "") {
		return nil, errors.New("--nats-cert and --nats-key go together")
	}
	if *f.cert != "" {
		opts = append(opts, nats.ClientCert(*f.cert, *f.key))
	}
	return opts, nil
}

// natsHint follows a failure to reach NATS.
const natsHint = `  Is a NATS server running there? One command starts one with the Go toolchain alone:
    go run github.com/nats-io/nats-server/v2@` + natsServerVersion + `   # listens on nats://127.0.0.1:4222`

// natsServerVersion is the nats-server go.mod requires for the tests, and
// the one the hint and the README run.
const natsServerVersion = "v2.15.2"

// serveNATS serves the diagnostic routes as cluster *f.cluster until ctx
// ends.
func serveNATS(ctx context.Context, e *env, f natsFlags, o *ops, metricsAddr string) error {
	r := cmdline.DiagnosticRouter(map[string]any{"cluster": *f.cluster})
	node, err := f.connect(natsipc.Config{Cluster: *f.cluster, Router: r, Hooks: o.rec.IPCHooks(*f.cluster, r, nil)})
	if err != nil {
		return err
	}
	o.health.Add("nats", func() error {
		if !node.Conn().IsConnected() {
			return fmt.Errorf("%w: not connected to NATS (%s)", metrics.ErrUnhealthy, node.Conn().Status())
		}
		return nil
	})
	stopOps, err := o.serve(e, metricsAddr)
	if err != nil {
		node.Close()
		return err
	}
	defer stopOps()
	fmt.Fprintf(e.stdout, "ipcord: serving cluster %q on %s (routes: %v)\n", *f.cluster, node.Conn().ConnectedUrlRedacted(), r.Routes())
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return node.Shutdown(sctx)
}

// callNATS calls route on any instance, on cluster *f.cluster, or (all)
// on every cluster, one line per cluster.
func callNATS(ctx context.Context, e *env, f natsFlags, all bool, timeout time.Duration, route string, args json.RawMessage) error {
	node, err := f.connect(natsipc.Config{})
	if err != nil {
		return err
	}
	defer node.Close()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if !all {
		var caller ipc.Caller = node
		if *f.cluster != "" {
			caller = node.Cluster(*f.cluster)
		}
		var out json.RawMessage
		if err := caller.Call(ctx, route, args, &out); err != nil {
			return reportCallError(err)
		}
		fmt.Fprintln(e.stdout, string(out))
		return nil
	}
	node.Discover(ctx, 0)
	results, err := node.Broadcast(ctx, route, args)
	if err != nil {
		return reportCallError(err)
	}
	if len(results) == 0 {
		return reportCallError(errors.New("no cluster answered"))
	}
	failed := false
	for _, r := range results {
		if r.Err != nil {
			failed = true
			fmt.Fprintf(e.stdout, "%s\terror\t%s\n", r.Client, callErrorText(r.Err))
			continue
		}
		fmt.Fprintf(e.stdout, "%s\t%s\n", r.Client, r.Data)
	}
	if failed {
		return cmdline.ExitError{Code: 1}
	}
	return nil
}
