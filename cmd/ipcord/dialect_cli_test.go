package main

import (
	"context"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ipcord/ipcord/internal/leaktest"
	"github.com/ipcord/ipcord/ipc"
)

func TestCallDialectsAndForwarding(t *testing.T) {
	leaktest.Check(t)
	url := startServe(t, serveURL)[1]

	// A bot connected to the server, reached through it with --client.
	bot := ipc.NewRouter()
	bot.HandleFunc("whoami", func(ctx context.Context, req *ipc.Request) (any, error) {
		return map[string]string{"me": "bot-7"}, nil
	})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := ipc.Dial(ctx, ipc.ClientConfig{URL: url, Secret: "s3", Identifier: "bot-7", Router: bot, Dialect: ipc.Zonis})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	tests := []struct {
		args     []string
		code     int
		out, err string
	}{
		{[]string{"--dialect", "ext-ipc", "ping", "n=5"}, 0, `{"n":5,"ok":true}`, ""},
		{[]string{"--dialect", "better-ipc", "ping", "n=6"}, 0, `{"n":6,"ok":true}`, ""},
		{[]string{"--dialect", "better-ipc-multicast", "ping", "n=7"}, 0, `{"n":7,"ok":true}`, ""},
		{[]string{"--dialect", "zonis", "ping", "n=8"}, 0, `{"n":8,"ok":true}`, ""},
		{[]string{"--dialect", "native", "ping", "n=9"}, 0, `{"n":9,"ok":true}`, ""},
		{[]string{"--dialect", "ext-ipc", "nope"}, 1, "", "unknown_route"},
		{[]string{"--dialect", "better-ipc", "fail"}, 1, "", "handler_error"},
		{[]string{"--dialect", "grpc", "ping"}, 1, "", "unknown dialect"},
		{[]string{"--client", "bot-7", "whoami"}, 0, `{"me":"bot-7"}`, ""},
		{[]string{"--dialect", "ext-ipc", "--client", "bot-7", "whoami"}, 0, `{"me":"bot-7"}`, ""},
		{[]string{"--client", "ghost", "whoami"}, 1, "", "unknown_client"},
	}
	for _, tt := range tests {
		e, out, errb := testEnv(nil)
		args := append([]string{"call", "--url", url, "--secret", "s3"}, tt.args...)
		code := runMain(context.Background(), e, args)
		if code != tt.code || strings.TrimSpace(out.String()) != tt.out || !strings.Contains(errb.String(), tt.err) {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want exit %d, stdout %q, stderr containing %q",
				tt.args, code, out.String(), errb.String(), tt.code, tt.out, tt.err)
		}
	}
}

// `call --dialect ext-ipc --discover` asks a discovery port the way a
// discord-ext-ipc client does: a Python bot's port answers that handshake
// and has no /ipcord/servers listing.
func TestCallExtIPCDiscover(t *testing.T) {
	leaktest.Check(t)
	r := ipc.NewRouter()
	r.HandleFunc("ping", func(context.Context, *ipc.Request) (any, error) { return "pong", nil })
	srv := &ipc.Server{Router: r, Secret: "s3"}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	d := &ipc.Discovery{}
	if err := d.Add(srv); err != nil {
		t.Fatal(err)
	}
	// Like discord-ext-ipc's multicast server: WebSocket on /, nothing else.
	py := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") == "" {
			http.NotFound(w, r)
			return
		}
		d.ServeHTTP(w, r)
	})}
	dln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go py.Serve(dln)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		d.Shutdown(ctx)
		py.Close()
		srv.Shutdown(ctx)
	})
	disc := dln.Addr().String()
	runCases(t, []cliCase{
		{[]string{"call", "--dialect", "ext-ipc", "--discover", disc, "--secret", "s3", "ping"}, 0, `"pong"`, ""},
		{[]string{"call", "--dialect", "ext-ipc", "--discover", disc, "--secret", "wrong", "ping"}, 1, "", "unauthorized"},
		{[]string{"call", "--dialect", "ext-ipc", "--discover", disc, "--name", "x", "--secret", "s3", "ping"}, 1, "", "--name does not apply"},
	})
}
