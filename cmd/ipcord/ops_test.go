package main

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ipcord/ipcord/cmd/ipcord/internal/demo"

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
	// Each call's connection is closed by then, but the server counts it
	// gone only once its read loop sees the close: wait for that.
	fams := scrapeUntil(t, ops+"/metrics", "the calls' connections to close", func(fams promscrape.Families) bool {
		v, ok := fams.Value("ipcord_ipc_connections", map[string]string{"server": "t"})
		return ok && v == 0
	})
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
	wantHealthy(t, ops)
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
	wantHealthy(t, m[1])
}

// `ipcord bot --metrics-addr` serves its shards and IPC calls as metrics:
// a fault the fake injects shows up as a resume, and the health check
// passes while every shard runs.
func TestBotMetrics(t *testing.T) {
	leaktest.Check(t)
	f, err := demo.StartFake(demo.FakeConfig{Shards: 2, HeartbeatInterval: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	_, m := startCommand(t, regexp.MustCompile(`(?s)metrics on (http://[0-9.:]+)/metrics.*IPC on (ws://\S+)`),
		"bot", "--fake", f.URL(), "--secret", "s3", "--shards", "2", "--metrics-addr", "127.0.0.1:0")
	ops, ipcURL := m[1], m[2]
	ready := func(fams promscrape.Families, shard string) bool {
		v, _ := fams.Value("ipcord_shard_state", map[string]string{"shard": shard, "state": "ready"})
		return v == 1
	}
	scrapeUntil(t, ops+"/metrics", "both shards ready", func(fams promscrape.Families) bool { return ready(fams, "0") && ready(fams, "1") })
	if err := f.Gateway().SendReconnect(0); err != nil {
		t.Fatal(err)
	}
	scrapeUntil(t, ops+"/metrics", "shard 0 to resume", func(fams promscrape.Families) bool {
		v, _ := fams.Value("ipcord_shard_resumes_total", map[string]string{"shard": "0"})
		return v >= 1 && ready(fams, "0")
	})
	if code, out, errOut := run("call", "--url", ipcURL, "--secret", "s3", "stats"); code != 0 || !strings.Contains(out, `"last_ack_age_ms"`) {
		t.Fatalf("stats: %d %q %q", code, out, errOut)
	}
	// The shard is READY when RESUMED arrives; its handler counts the
	// event after that.
	fams := scrapeUntil(t, ops+"/metrics", "the RESUMED event to be handled", func(fams promscrape.Families) bool {
		v, _ := fams.Value("ipcord_shard_events_total", map[string]string{"shard": "0", "type": "RESUMED"})
		return v >= 1
	})
	for _, m := range fams.Mismatches(
		promscrape.Want{Name: "ipcord_ipc_calls_total", Labels: map[string]string{"server": "bot-1", "route": "stats"}, Value: 1},
		promscrape.Want{Name: "ipcord_shard_events_total", Labels: map[string]string{"shard": "0", "type": "RESUMED"}, Value: 1},
		promscrape.Want{Name: "ipcord_shard_resumes_total", Labels: map[string]string{"shard": "1"}, Value: 0},
	) {
		t.Error(m)
	}
	wantHealthy(t, ops)
}

// scrapeUntil scrapes url until cond holds for what it reads, failing t
// after 30 s, and returns that scrape.
func scrapeUntil(t *testing.T, url, what string, cond func(promscrape.Families) bool) promscrape.Families {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); ; {
		fams, err := promscrape.Scrape(nil, url)
		if err != nil {
			t.Fatal(err)
		}
		if cond(fams) {
			return fams
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// wantHealthy checks that base's /healthz answers 200.
func wantHealthy(t *testing.T, base string) {
	t.Helper()
	resp, err := http.Get(base + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET %s/healthz: %d, want 200", base, resp.StatusCode)
	}
}
