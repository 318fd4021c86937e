package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ipcord/ipcord/internal/leaktest"
	"github.com/ipcord/ipcord/internal/syncbuf"
	"github.com/nats-io/nats-server/v2/server"
)

func startNATS(t *testing.T) string {
	t.Helper()
	s, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats-server did not start")
	}
	t.Cleanup(func() { s.Shutdown(); s.WaitForShutdown() })
	return s.ClientURL()
}

// serve runs `ipcord-nats serve` until the test ends.
func serve(t *testing.T, url, cluster string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out := &syncbuf.Buffer{}
	done := make(chan int, 1)
	go func() { done <- run(ctx, out, out, []string{"serve", "--nats", url, "--cluster", cluster}) }()
	t.Cleanup(func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("serve %s exited %d: %s", cluster, code, out)
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(out.String(), "serving cluster") {
		if time.Now().After(deadline) {
			t.Fatalf("serve %s did not start: %s", cluster, out)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func call(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	code = run(context.Background(), &o, &e, append([]string{"call"}, args...))
	return code, o.String(), e.String()
}

func TestServeAndCall(t *testing.T) {
	leaktest.Check(t)
	url := startNATS(t)
	serve(t, url, "c0")
	serve(t, url, "c1")

	code, out, errOut := call(t, "--nats", url, "--cluster", "c1", "ping", "n=7")
	if code != 0 || !strings.Contains(out, `"cluster":"c1"`) || !strings.Contains(out, `"n":7`) {
		t.Fatalf("call --cluster c1: %d %q %q", code, out, errOut)
	}
	code, out, errOut = call(t, "ping", "--nats", url)
	if code != 0 || !strings.Contains(out, `"ok":true`) {
		t.Fatalf("call any: %d %q %q", code, out, errOut)
	}
	code, out, errOut = call(t, "--nats", url, "--all", "ping")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 2 || !strings.HasPrefix(lines[0], "c0\t") || !strings.HasPrefix(lines[1], "c1\t") {
		t.Fatalf("call --all: %d %q %q; want one line per cluster", code, out, errOut)
	}
	code, out, _ = call(t, "--nats", url, "--all", "fail")
	if code != 1 || strings.Count(out, "\terror\thandler_error: this route always fails") != 2 {
		t.Fatalf("call --all fail: %d %q", code, out)
	}
	code, _, errOut = call(t, "--nats", url, "nope")
	if code != 1 || !strings.HasPrefix(errOut, "unknown_route:") {
		t.Fatalf("call nope: %d %q; want unknown_route", code, errOut)
	}
	code, _, errOut = call(t, "--nats", url, "--cluster", "ghost", "ping")
	if code != 1 || !strings.HasPrefix(errOut, "unknown_client:") {
		t.Fatalf("call ghost: %d %q; want unknown_client", code, errOut)
	}
	if code, _, _ = call(t, "--nats", url, "--all", "--cluster", "c0", "ping"); code != 2 {
		t.Fatalf("--all with --cluster exited %d, want 2", code)
	}
	if code := run(context.Background(), &bytes.Buffer{}, &bytes.Buffer{}, []string{"serve", "--nats", url}); code != 2 {
		t.Fatalf("serve without --cluster exited %d, want 2", code)
	}
}
