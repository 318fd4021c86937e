package main

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/ipcord/ipcord/cmd/ipcord/internal/demo"
	"github.com/ipcord/ipcord/internal/leaktest"
)

// ipcord bot refuses what cannot work with a clear message, and a
// takeover with the wrong secret fails without touching the running
// generation.
func TestBotBadInput(t *testing.T) {
	leaktest.Check(t)
	f, err := demo.StartFake(demo.FakeConfig{Shards: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	_, m := startCommand(t, regexp.MustCompile(`IPC on (ws://\S+)`), "bot", "--fake", f.URL(), "--secret", "right", "--shards", "2")
	running := m[1]

	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"bot", "--secret", "s"}, 2, "give --fake URL, or set DISCORD_TOKEN"},
		{[]string{"bot", "--fake", f.URL(), "--secret", "s", "--take-over", "http://x"}, 2, "want the ws:// URL"},
		{[]string{"bot", "--fake", f.URL(), "--secret", "s", "--parallel", "0"}, 2, "--parallel 0"},
		{[]string{"bot", "--fake", f.URL()}, 1, "no secret"},
		{[]string{"bot", "--fake", f.URL(), "--secret", "s", "--nats", "nats://127.0.0.1:1"}, 2, "--nats and --fleet go together"},
		{[]string{"bot", "--fake", f.URL(), "--secret", "s", "--dedupe"}, 2, "need --fleet"},
		{[]string{"bot", "--fake", f.URL(), "--secret", "s", "--nats", "nats://127.0.0.1:1", "--fleet", "f", "--take-over", running}, 2, "exclude each other"},
		{[]string{"bot", "--fake", f.URL(), "--secret", "s", "--nats", "nats://127.0.0.1:1", "--fleet", "f", "--lease-ttl", "-1s"}, 2, "cannot be negative"},
		{[]string{"bot", "--fake", f.URL(), "--secret", "wrong", "--take-over", running}, 1, "unauthorized"},
	} {
		e, _, errb := testEnv(nil)
		code := runMain(context.Background(), e, c.args)
		if code != c.code || !strings.Contains(errb.String(), c.want) {
			t.Errorf("%q: exit %d, stderr %q; want exit %d and %q", c.args, code, errb.String(), c.code, c.want)
		}
	}
}
