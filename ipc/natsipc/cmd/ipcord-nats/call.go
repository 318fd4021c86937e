package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/ipcord/ipcord/internal/cmdline"
	"github.com/ipcord/ipcord/ipc"
	"github.com/ipcord/ipcord/ipc/natsipc"
)

func runCall(ctx context.Context, stdout, stderr io.Writer, args []string) error {
	fs := newFlags(stderr, "call", "--nats URL [--cluster NAME | --all] ROUTE [k=v ...] [--args JSON] [--timeout 5s]")
	nf := addNATSFlags(fs)
	cluster := fs.String("cluster", "", "call this cluster (default: any instance of the route)")
	all := fs.Bool("all", false, "call every cluster; one line per cluster")
	argsJSON := fs.String("args", "", "arguments as one JSON value (instead of k=v pairs)")
	timeout := fs.Duration("timeout", 5*time.Second, "deadline for connecting and for the call")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 || *all && *cluster != "" {
		fs.Usage()
		return errUsage
	}
	route := pos[0]
	callArgs, err := cmdline.CallArgs(*argsJSON, pos[1:])
	if err != nil {
		return err
	}
	node, err := nf.connect(natsipc.Config{})
	if err != nil {
		return err
	}
	defer node.Close()
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()

	if *all {
		node.Discover(ctx, 0)
		results, err := node.Broadcast(ctx, route, callArgs)
		if err != nil {
			return reportError(stderr, err)
		}
		failed := false
		for _, r := range results {
			if r.Err != nil {
				failed = true
				fmt.Fprintf(stdout, "%s\terror\t%s\n", r.Client, errorText(r.Err))
				continue
			}
			fmt.Fprintf(stdout, "%s\t%s\n", r.Client, r.Data)
		}
		if failed || len(results) == 0 {
			if len(results) == 0 {
				fmt.Fprintln(stderr, "no cluster answered")
			}
			return cmdline.ExitError{Code: 1}
		}
		return nil
	}
	var caller ipc.Caller = node
	if *cluster != "" {
		caller = node.Cluster(*cluster)
	}
	var out json.RawMessage
	if err := caller.Call(ctx, route, callArgs, &out); err != nil {
		return reportError(stderr, err)
	}
	fmt.Fprintln(stdout, string(out))
	return nil
}

// reportError prints an error as "code: message" and makes the command
// exit 1.
func reportError(stderr io.Writer, err error) error {
	fmt.Fprintln(stderr, errorText(err))
	return cmdline.ExitError{Code: 1}
}

func errorText(err error) string {
	var ie *ipc.Error
	if errors.As(err, &ie) {
		return ie.Code + ": " + ie.Message
	}
	return "error: " + err.Error()
}
