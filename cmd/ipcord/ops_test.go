package main

import (
	"net/http"
	"regexp"
	"testing"

	"github.com/ipcord/ipcord/internal/leaktest"
	"github.com/ipcord/ipcord/internal/promscrape"
)

// `ipcord serve --metrics-addr` serves the calls it answers as Prometheus
// metrics, scraped over HTTP and parsed by Prometheus's parser, and a
// health check.
func TestServeMetrics(t *testing.T) {
	leaktest.Check(t)
	m := startServe(t, regexp.MustCompile(`(?s)metrics on (http://[0-9.:]+)/metrics.*serving "t" on (ws://[0-9.:]+)`), "--metrics-addr", "127.0.0.1:0")
	ops, url := m[1], m[2]
	for _, args := range [][]string{{"ping"}, {"ping"}, {"fail"}, {"nope"}} {
		run(append([]string{"call", "--url", url, "--secret", "s3"}, args...)...)
	}
	fams, err := promscrape.Scrape(nil, ops+"/metrics")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range fams.Mismatches(
		promscrape.Want{Name: "ipcord_ipc_calls_total", Labels: map[string]string{"server": "t", "route": "ping"}, Value: 2},
		promscrape.Want{Name: "ipcord_ipc_errors_total", Labels: map[string]string{"server": "t", "route": "fail", "code": "handler_error"}, Value: 1},
		promscrape.Want{Name: "ipcord_ipc_errors_total", Labels: map[string]string{"server": "t", "route": "(unknown)", "code": "unknown_route"}, Value: 1},
		promscrape.Want{Name: "ipcord_ipc_call_duration_seconds", Labels: map[string]string{"server": "t", "route": "ping"}, Value: 2},
		promscrape.Want{Name: "ipcord_ipc_connections", Labels: map[string]string{"server": "t"}, Value: 0},
	) {
		t.Error(m)
	}
	if _, ok := fams["go_goroutines"]; !ok {
		t.Error("no Go runtime metrics")
	}
	resp, err := http.Get(ops + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("healthz %d", resp.StatusCode)
	}
}

// `ipcord serve --nats --metrics-addr` counts the calls that arrive over
// NATS, and its health check says whether NATS is connected.
func TestServeNATSMetrics(t *testing.T) {
	leaktest.Check(t)
	nurl := startNATS(t)
	_, m := startCommand(t, regexp.MustCompile(`(?s)metrics on (http://[0-9.:]+)/metrics.*serving cluster`),
		"serve", "--nats", nurl, "--cluster", "c0", "--metrics-addr", "127.0.0.1:0")
	for range 3 {
		if code, out, errOut := run("call", "--nats", nurl, "ping"); code != 0 {
			t.Fatalf("call: %d %q %q", code, out, errOut)
		}
	}
	fams, err := promscrape.Scrape(nil, m[1]+"/metrics")
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := fams.Value("ipcord_ipc_calls_total", map[string]string{"server": "c0", "route": "ping"}); v != 3 {
		t.Errorf("calls over NATS: %g, want 3", v)
	}
	resp, err := http.Get(m[1] + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("healthz %d while connected to NATS", resp.StatusCode)
	}
}
