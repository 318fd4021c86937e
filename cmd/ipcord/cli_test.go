package main

import (
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ipcord/ipcord/internal/leaktest"
	"github.com/ipcord/ipcord/internal/syncbuf"
)

func testEnv(vars map[string]string) (*env, *syncbuf.Buffer, *syncbuf.Buffer) {
	out, errb := &syncbuf.Buffer{}, &syncbuf.Buffer{}
	return &env{stdout: out, stderr: errb, getenv: func(k string) string { return vars[k] }}, out, errb
}

// startCommand runs an ipcord subcommand in process until the test ends
// and returns its output once re matches it.
func startCommand(t *testing.T, re *regexp.Regexp, args ...string) (out *syncbuf.Buffer, m []string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	e, out, errb := testEnv(nil)
	done := make(chan int, 1)
	go func() { done <- runMain(ctx, e, args) }()
	t.Cleanup(func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("%s exited %d: %s", args[0], code, errb.String())
		}
	})
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if m := re.FindStringSubmatch(out.String()); m != nil {
			return out, m
		}
		select {
		case code := <-done:
			done <- code
			t.Fatalf("%s exited %d early: %s %s", args[0], code, out.String(), errb.String())
		case <-time.After(5 * time.Millisecond):
		}
	}
	t.Fatalf("%s printed no match for %s: %q", args[0], re, out.String())
	return nil, nil
}

// startServe runs `ipcord serve` (with the test secret and name, and
// extra flags) in process until the test ends, and returns the submatches
// of re once its output matches.
func startServe(t *testing.T, re *regexp.Regexp, extra ...string) []string {
	t.Helper()
	_, m := startCommand(t, re, append([]string{"serve", "--addr", "127.0.0.1:0", "--secret", "s3", "--name", "t"}, extra...)...)
	return m
}

// serveURL matches the URL serve prints.
var serveURL = regexp.MustCompile(`(wss?://[0-9.:]+)`)

func TestServeCallRoutes(t *testing.T) {
	leaktest.Check(t)
	url := startServe(t, serveURL)[1]
	tests := []struct {
		args     []string
		env      map[string]string
		code     int
		out, err string
	}{
		{[]string{"call", "--url", url, "--secret", "s3", "ping", "n=5"}, nil, 0, `{"n":5,"ok":true}`, ""},
		{[]string{"call", "ping", "--url", url, "n=7"}, map[string]string{"IPCORD_SECRET": "s3"}, 0, `{"n":7,"ok":true}`, ""},
		{[]string{"call", "--url", url, "--secret", "s3", "echo", "name=ann", "n=1.5", `obj={"a":[1]}`}, nil, 0, `{"n":1.5,"name":"ann","obj":{"a":[1]}}`, ""},
		{[]string{"call", "--url", url, "--secret", "s3", "echo", "--args", `[1,"two"]`}, nil, 0, `[1,"two"]`, ""},
		{[]string{"call", "--url", url, "--secret", "s3", "sleep", "ms=10"}, nil, 0, `{"slept_ms":10}`, ""},
		{[]string{"call", "--url", url, "--secret", "s3", "--timeout", "100ms", "sleep", "ms=5000"}, nil, 1, "", "timeout"},
		{[]string{"call", "--url", url, "--secret", "s3", "fail"}, nil, 1, "", "handler_error: this route always fails"},
		{[]string{"call", "--url", url, "--secret", "s3", "nope"}, nil, 1, "", "unknown_route"},
		{[]string{"call", "--url", url, "--secret", "wrong", "ping"}, nil, 1, "", "unauthorized"},
		{[]string{"call", "--url", url, "ping"}, nil, 1, "", "no secret"},
		{[]string{"call", "--url", url, "--secret", "s3", "echo", "--", "--not-a-flag=1"}, nil, 0, `{"--not-a-flag":1}`, ""},
		{[]string{"routes", "--url", url, "--secret", "s3"}, nil, 0, "echo\nfail\nipcord.forward\nping\nsleep", ""},
		{[]string{"call", "--url", url, "--secret", "s3"}, nil, 2, "", "usage"},
	}
	for _, tt := range tests {
		e, out, errb := testEnv(tt.env)
		code := runMain(context.Background(), e, tt.args)
		if code != tt.code || strings.TrimSpace(out.String()) != tt.out || !strings.Contains(errb.String(), tt.err) {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want exit %d, stdout %q, stderr containing %q",
				tt.args, code, out.String(), errb.String(), tt.code, tt.out, tt.err)
		}
	}
}

func TestBenchJSON(t *testing.T) {
	leaktest.Check(t)
	url := startServe(t, serveURL)[1]
	e, out, errb := testEnv(nil)
	code := runMain(context.Background(), e, []string{"bench", "--url", url, "--secret", "s3", "--n", "500", "--concurrency", "8", "--conns", "2", "--json"})
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	var r map[string]any
	dec := json.NewDecoder(strings.NewReader(out.String()))
	if err := dec.Decode(&r); err != nil || dec.More() {
		t.Fatalf("want exactly one JSON object, got %q (%v)", out.String(), err)
	}
	num := func(k string) float64 { f, _ := r[k].(float64); return f }
	if num("requests") != 500 || num("errors") != 0 || num("rps") <= 0 || num("p50_us") <= 0 || num("p99_us") < num("p50_us") {
		t.Fatalf("report %v", r)
	}
	if byCode, ok := r["errors_by_code"].(map[string]any); !ok || len(byCode) != 0 || r["cut_short"] != "" {
		t.Fatalf("report %v: want errors_by_code {} and cut_short \"\"", r)
	}
	if len(r) != 7 {
		t.Fatalf("report has keys %v, want exactly requests, errors, errors_by_code, rps, p50_us, p99_us, cut_short", r)
	}
}

// --interval paces the calls; --busy-poll -1s (never poll) still calls.
func TestBenchInterval(t *testing.T) {
	leaktest.Check(t)
	url := startServe(t, serveURL)[1]
	e, out, errb := testEnv(nil)
	start := time.Now()
	code := runMain(context.Background(), e, []string{"bench", "--url", url, "--secret", "s3", "--n", "5", "--concurrency", "1",
		"--interval", "20ms", "--busy-poll", "-1s", "--json"})
	took := time.Since(start)
	var r benchReport
	if err := json.Unmarshal([]byte(out.String()), &r); err != nil || code != 0 {
		t.Fatalf("exit %d, %v: %q %q", code, err, out, errb)
	}
	if r.Requests != 5 || r.Errors != 0 || took < 100*time.Millisecond {
		t.Fatalf("report %+v after %v; want 5 calls, each followed by 20 ms", r, took)
	}
}

func TestUnknownCommand(t *testing.T) {
	e, _, errb := testEnv(nil)
	if code := runMain(context.Background(), e, []string{"nope"}); code != 2 || !strings.Contains(errb.String(), `unknown command "nope"`) {
		t.Fatalf("code %d, stderr %q", code, errb.String())
	}
}
