package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/ipcord/ipcord/internal/cmdline"
	"github.com/ipcord/ipcord/ipc/natsipc"
)

func runServe(ctx context.Context, stdout, stderr io.Writer, args []string) error {
	fs := newFlags(stderr, "serve", "--nats URL --cluster NAME")
	nf := addNATSFlags(fs)
	cluster := fs.String("cluster", "", "name of this cluster (required)")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	if *cluster == "" {
		fmt.Fprintln(stderr, "ipcord-nats serve: --cluster is required")
		return errUsage
	}
	r := cmdline.DiagnosticRouter(map[string]any{"cluster": *cluster})
	node, err := nf.connect(natsipc.Config{Cluster: *cluster, Router: r})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "ipcord-nats: serving cluster %q on %s (routes: %v)\n", *cluster, node.Conn().ConnectedUrlRedacted(), r.Routes())
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return node.Shutdown(sctx)
}
