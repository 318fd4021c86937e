package main

import (
	"context"
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
