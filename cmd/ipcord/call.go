package main

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/ipcord/ipcord/cmd/ipcord/internal/cmdline"
	"github.com/ipcord/ipcord/ipc"
)

func init() {
	register(&command{name: "call", summary: "call a route on an IPC server and print the result", run: runCall})
	register(&command{name: "routes", summary: "list the routes of an IPC server", run: runRoutes})
}

// clientFlags are the flags every command that connects to a server shares.
type clientFlags struct {
	url, secret *string
	timeout     *time.Duration
	discover    *string // discovery listener to find the server through
	name        *string // which discovered server
	ca          *string // CA file for wss:// and https:// discovery
}

func addClientFlags(fs interface {
	String(string, string, string) *string
	Duration(string, time.Duration, string) *time.Duration
}) clientFlags {
	return clientFlags{
		url:      fs.String("url", "ws://127.0.0.1:8765", "server URL"),
		secret:   fs.String("secret", "", "shared secret (default $IPCORD_SECRET)"),
		timeout:  fs.Duration("timeout", 5*time.Second, "deadline for connecting and for the call"),
		discover: fs.String("discover", "", "find the server through the discovery listener at HOST:PORT (instead of --url)"),
		name:     fs.String("name", "", "with --discover: the server to use (default: the only one)"),
		ca:       fs.String("ca", "", "CA certificate file (PEM) to verify wss:// servers and https:// discovery"),
	}
}

// dial connects as the flags say; ctx bounds the connection attempt.
// opts adjust the config (a dialect, for call).
func (cf clientFlags) dial(ctx context.Context, e *env, id string, opts ...func(*ipc.ClientConfig)) (*ipc.Client, error) {
	s, err := secretFrom(e, *cf.secret)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, *cf.timeout)
	defer cancel()
	tl := ipc.ClientTLS{CAFile: *cf.ca}
	cfg := ipc.ClientConfig{URL: *cf.url, Secret: s, Identifier: id, TLS: tl, FailFast: true}
	for _, o := range opts {
		o(&cfg)
	}
	switch {
	case *cf.discover != "" && (cfg.Dialect == ipc.ExtIPC || cfg.Dialect == ipc.BetterIPCMulticast):
		// A Python bot's discovery port speaks its own handshake (ext-ipc)
		// or takes the calls itself (better-ipc multicast); it has no
		// /ipcord/servers listing, and no names to pick from.
		if *cf.name != "" {
			return nil, fmt.Errorf("--name does not apply to --dialect %s: its discovery port knows one server", cfg.Dialect)
		}
		cfg.URL, cfg.ExtIPCDiscovery = "ws://"+*cf.discover, cfg.Dialect == ipc.ExtIPC
	case *cf.discover != "":
		list, err := ipc.Discover(ctx, ipc.DiscoverConfig{Addr: *cf.discover, Secret: s, TLS: tl})
		if err != nil {
			return nil, connectError("discovery at "+*cf.discover, err)
		}
		info, err := ipc.PickServer(list, *cf.name)
		if err != nil {
			return nil, err
		}
		cfg.URL = info.URL
	}
	c, err := ipc.Dial(ctx, cfg)
	if err != nil {
		return nil, connectError(cfg.URL, err)
	}
	return c, nil
}

func runCall(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "call", "[--url URL | --discover HOST:PORT [--name N] | --nats URL [--cluster NAME | --all]] [--ca F] --secret S [--dialect D] [--client ID] ROUTE [k=v ...] [--args JSON] [--timeout 5s]")
	cf := addClientFlags(fs)
	argsJSON := fs.String("args", "", "arguments as one JSON value (instead of k=v pairs)")
	dialectName := fs.String("dialect", "native", "protocol of the server: native, ext-ipc, better-ipc, better-ipc-multicast or zonis")
	forwardTo := fs.String("client", "", "ask the server to forward the call to its connected client `ID`")
	nf := addNATSFlags(fs, "with --nats: call this cluster (default: any instance of the route)")
	all := fs.Bool("all", false, "with --nats: call every cluster, one line per cluster")
	pos, err := fs.Parse(args)
	if err != nil {
		return err
	}
	dialect, err := ipc.ParseDialect(*dialectName)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return fs.Fail("missing ROUTE")
	}
	route := pos[0]
	callArgs, err := cmdline.CallArgs(*argsJSON, pos[1:])
	if err != nil {
		return err
	}
	if *nf.url != "" {
		if *all && *nf.cluster != "" {
			return fs.Fail("--all and --cluster exclude each other")
		}
		return callNATS(ctx, e, nf, *all, *cf.timeout, route, callArgs)
	}
	if *all || *nf.cluster != "" {
		return fs.Fail("--all and --cluster need --nats URL")
	}
	if *forwardTo != "" {
		callArgs, _ = json.Marshal(ipc.ForwardArgs{Client: *forwardTo, Route: route, Args: callArgs})
		route = ipc.ForwardRoute
	}
	c, err := cf.dial(ctx, e, "", func(cfg *ipc.ClientConfig) { cfg.Dialect = dialect })
	if err != nil {
		return reportCallError(err)
	}
	defer c.Close()
	cctx, cancel := context.WithTimeout(ctx, *cf.timeout)
	defer cancel()
	var out json.RawMessage
	if err := c.Call(cctx, route, callArgs, &out); err != nil {
		return reportCallError(err)
	}
	fmt.Fprintln(e.stdout, string(out))
	return nil
}

func runRoutes(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "routes", "[--url URL] --secret S")
	cf := addClientFlags(fs)
	if _, err := fs.Parse(args); err != nil {
		return err
	}
	c, err := cf.dial(ctx, e, "")
	if err != nil {
		return reportCallError(err)
	}
	defer c.Close()
	routes, err := c.Routes(ctx)
	if err != nil {
		return reportCallError(err)
	}
	for _, r := range routes {
		fmt.Fprintln(e.stdout, r)
	}
	return nil
}
