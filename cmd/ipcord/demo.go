package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"time"

	"github.com/ipcord/ipcord/ipc"
)

func init() {
	register(&command{name: "demo", summary: "run an IPC server and a client against it, offline", run: runDemo})
}

// runDemo starts a bot-side IPC server and a dashboard-side client in one
// process, talking over a real WebSocket on loopback, and shows calls both
// ways, typed errors and a broadcast.
func runDemo(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "demo", "[--addr 127.0.0.1:0]")
	addr := fs.String("addr", "127.0.0.1:0", "address for the demo's IPC server")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	const secret = "demo-secret"
	bot := diagnosticRouter()
	guilds := map[string]int{"ipcord lounge": 1284, "gophers": 56021, "test server": 3}
	bot.Handle("stats", ipc.Func(func(ctx context.Context, _ struct{}) (map[string]any, error) {
		members := 0
		for _, n := range guilds {
			members += n
		}
		return map[string]any{"guilds": len(guilds), "members": members}, nil
	}))
	srv := &ipc.Server{Router: bot, Secret: secret, Name: "demo-bot"}
	url := "ws://" + ln.Addr().String()
	go srv.Serve(ln)
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}()
	fmt.Fprintf(e.stdout, "bot: IPC server %q on %s\n", srv.Name, url)

	dash := ipc.NewRouter()
	dash.Handle("visitors", ipc.Func(func(ctx context.Context, _ struct{}) (int, error) { return 7, nil }))
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	c, err := ipc.Dial(cctx, ipc.ClientConfig{URL: url, Secret: secret, Identifier: "dashboard", Router: dash})
	if err != nil {
		return err
	}
	defer c.Close()
	fmt.Fprintf(e.stdout, "dashboard: connected as %q\n\n", c.Identifier())

	show := func(who, what string, v any, err error) {
		if err != nil {
			fmt.Fprintf(e.stdout, "%-10s %-34s → error: %v\n", who, what, err)
			return
		}
		b, _ := json.Marshal(v)
		fmt.Fprintf(e.stdout, "%-10s %-34s → %s\n", who, what, b)
	}
	routes, err := c.Routes(cctx)
	show("dashboard", "routes", routes, err)
	var out json.RawMessage
	err = c.Call(cctx, "stats", nil, &out)
	show("dashboard", "stats", out, err)
	err = c.Call(cctx, "ping", map[string]int{"n": 1}, &out)
	show("dashboard", `ping {"n":1}`, out, err)
	err = c.Call(cctx, "echo", map[string]any{"hello": "bot", "from": "go"}, &out)
	show("dashboard", `echo {"hello":"bot",...}`, out, err)
	short, cancelShort := context.WithTimeout(cctx, 50*time.Millisecond)
	err = c.Call(short, "sleep", map[string]int{"ms": 1000}, nil)
	cancelShort()
	show("dashboard", `sleep {"ms":1000}, 50 ms deadline`, nil, err)
	err = c.Call(cctx, "nope", nil, nil)
	show("dashboard", "nope", nil, err)
	err = c.Call(cctx, "fail", nil, nil)
	show("dashboard", "fail", nil, err)
	n, err := ipc.CallAs[int](cctx, srv.Client("dashboard"), "visitors", nil)
	show("bot", "visitors (on the dashboard)", n, err)
	for _, r := range srv.Broadcast(cctx, "visitors", nil) {
		show("bot", "broadcast visitors → "+r.Client, r.Data, r.Err)
	}
	fmt.Fprintln(e.stdout, "\nTry it across processes:\n  go run ./cmd/ipcord serve --secret s3cret\n  go run ./cmd/ipcord call --secret s3cret ping n=5")
	return nil
}
