package main

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/ipcord/ipcord/internal/leaktest"
	"github.com/ipcord/ipcord/internal/natstest"
)

// startNATS runs a real NATS server on 127.0.0.1 until the test ends.
func startNATS(t *testing.T) string { return natstest.Start(t, nil).ClientURL() }

func run(args ...string) (code int, stdout, stderr string) {
	e, out, errb := testEnv(nil)
	code = runMain(context.Background(), e, args)
	return code, out.String(), errb.String()
}

// `ipcord serve --nats` and `ipcord call --nats` in the one binary, against
// a real NATS server.
func TestServeAndCallOverNATS(t *testing.T) {
	leaktest.Check(t)
	url := startNATS(t)
	serving := regexp.MustCompile(`serving cluster`)
	startCommand(t, serving, "serve", "--nats", url, "--cluster", "c0")
	startCommand(t, serving, "serve", "--nats", url, "--cluster", "c1")

	code, out, errOut := run("call", "--nats", url, "--cluster", "c1", "ping", "n=7")
	if code != 0 || !strings.Contains(out, `"cluster":"c1"`) || !strings.Contains(out, `"n":7`) {
		t.Fatalf("call --cluster c1: %d %q %q", code, out, errOut)
	}
	code, out, errOut = run("call", "ping", "--nats", url)
	if code != 0 || !strings.Contains(out, `"ok":true`) {
		t.Fatalf("call any: %d %q %q", code, out, errOut)
	}
	code, out, errOut = run("call", "--nats", url, "--all", "ping")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 2 || !strings.HasPrefix(lines[0], "c0\t") || !strings.HasPrefix(lines[1], "c1\t") {
		t.Fatalf("call --all: %d %q %q; want one line per cluster", code, out, errOut)
	}
	code, out, _ = run("call", "--nats", url, "--all", "fail")
	if code != 1 || strings.Count(out, "\terror\thandler_error: this route always fails") != 2 {
		t.Fatalf("call --all fail: %d %q", code, out)
	}
	code, _, errOut = run("call", "--nats", url, "nope")
	if code != 1 || !strings.HasPrefix(errOut, "ipcord call: unknown_route:") {
		t.Fatalf("call nope: %d %q; want unknown_route", code, errOut)
	}
	code, _, errOut = run("call", "--nats", url, "--cluster", "ghost", "ping")
	if code != 1 || !strings.HasPrefix(errOut, "ipcord call: unknown_client:") {
		t.Fatalf("call ghost: %d %q; want unknown_client", code, errOut)
	}
}

func TestNATSUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"call", "--nats", "nats://127.0.0.1:1", "--all", "--cluster", "c0", "ping"},
		{"call", "--all", "ping"},
		{"call", "--cluster", "c0", "ping"},
		{"serve", "--nats", "nats://127.0.0.1:1"},
	} {
		if code, _, errOut := run(args...); code != 2 || errOut == "" {
			t.Errorf("%q: exit %d, stderr %q; want a usage error (2)", args, code, errOut)
		}
	}
}
