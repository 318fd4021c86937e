package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/ipcord/ipcord/ipc"
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
	r := diagnosticRouter(*cluster)
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

// diagnosticRouter holds the routes `ipcord serve` offers for trying a
// connection out — ping, echo, sleep and fail — with ping also naming the
// cluster that answered.
func diagnosticRouter(cluster string) *ipc.Router {
	r := ipc.NewRouter()
	r.Handle("ping", ipc.Func(func(ctx context.Context, a struct {
		N int `json:"n"`
	}) (map[string]any, error) {
		return map[string]any{"ok": true, "n": a.N, "cluster": cluster}, nil
	}))
	r.HandleFunc("echo", func(ctx context.Context, req *ipc.Request) (any, error) {
		return req.Args, nil
	})
	r.Handle("sleep", ipc.Func(func(ctx context.Context, a struct {
		MS int `json:"ms"`
	}) (map[string]int, error) {
		t := time.NewTimer(time.Duration(a.MS) * time.Millisecond)
		defer t.Stop()
		select {
		case <-t.C:
			return map[string]int{"slept_ms": a.MS}, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}))
	r.HandleFunc("fail", func(ctx context.Context, req *ipc.Request) (any, error) {
		return nil, errors.New("this route always fails")
	})
	return r
}
