package demo_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ipcord/ipcord/cmd/ipcord/internal/demo"
	"github.com/ipcord/ipcord/internal/leaktest"
	"github.com/ipcord/ipcord/internal/promscrape"
	"github.com/ipcord/ipcord/ipc"
)

// consoleStats GETs the dashboard's /api/stats and returns it with the IPC
// round trip the dashboard reports in Server-Timing.
func consoleStats(t *testing.T, base string) (demo.Stats, string) {
	t.Helper()
	resp, err := http.Get(base + "/api/stats")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var st demo.Stats
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil || resp.StatusCode != 200 {
		t.Fatalf("/api/stats: %d %v", resp.StatusCode, err)
	}
	return st, resp.Header.Get("Server-Timing")
}

// waitStats polls /api/stats until cond holds.
func waitStats(t *testing.T, base, what string, cond func(demo.Stats) bool) demo.Stats {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		st, _ := consoleStats(t, base)
		if cond(st) {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s: %+v", what, st)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// The console, through its HTTP API only: a fault button's request makes
// fake Discord misbehave, the shard recovers and the error feed says how;
// "!ping" typed as a sample user is answered; the same story is in
// /metrics, parsed by Prometheus's parser, and /healthz stays 200.
func TestConsoleFaultsPingAndMetrics(t *testing.T) {
	leaktest.Check(t)
	// Heartbeats every second: a loaded machine does not look like a zombie,
	// and the zombie button is found out within two seconds.
	d := startDemo(t, demo.Config{Guilds: 4, Shards: 2, Traffic: 5, HeartbeatInterval: time.Second})
	base := d.Info.DashboardURL
	if code, body := do(t, "GET", base+"/api/config", "", nil); code != 200 || !strings.Contains(string(body), `"fake":true`) {
		t.Fatalf("config: %d %s", code, body)
	}
	waitStats(t, base, "both shards ready", func(st demo.Stats) bool {
		return len(st.Shards) == 2 && st.Shards[0].State == "READY" && st.Shards[1].State == "READY" &&
			st.Shards[0].LastACKAgeMS >= 0 && st.Guilds == 4
	})
	_, timing := consoleStats(t, base)
	if !regexp.MustCompile(`^ipc;dur=[0-9]+\.[0-9]{3}$`).MatchString(timing) {
		t.Errorf("Server-Timing %q", timing)
	}

	for _, bad := range []string{`{"name":"drop_session","shard":0}`, `{"name":"stop_heartbeat_acks","shard":0}`, `{"name":"reconnect","shard":-1}`, `nope`} {
		if code, body := do(t, "POST", base+"/api/fault", "", bad); code != 400 {
			t.Errorf("fault %s: %d %s, want 400", bad, code, body)
		}
	}
	if code, body := do(t, "POST", base+"/api/fault", "", `{"name":"reconnect","shard":0}`); code != 200 {
		t.Fatalf("fault: %d %s", code, body)
	}
	st := waitStats(t, base, "shard 0 to resume and the feed to say why", func(st demo.Stats) bool {
		for _, n := range st.Errors {
			if n.Level == "recovered" && n.Source == "shard 0" && strings.Contains(n.Text, "resumed its session after: shard: gateway asked for a reconnect") {
				return st.Shards[0].Resumes == 1 && st.Shards[0].State == "READY"
			}
		}
		return false
	})
	if st.Shards[1].Resumes != 0 || st.Shards[0].Identifies != 1 {
		t.Errorf("shards after one reconnect of shard 0: %+v", st.Shards)
	}
	// Every other button on shard 1: the bot recovers from each, and the
	// feed says how and from what.
	for _, f := range []struct{ fault, recovery, cause string }{
		{"zombie", "resumed its session", "zombie"},
		{"cut_mid_frame", "resumed its session", "connection lost"},
		{"invalid_session", "identified a new session", "invalid session"},
	} {
		before := len(st.Errors)
		if code, body := do(t, "POST", base+"/api/fault", "", map[string]any{"name": f.fault, "shard": 1}); code != 200 {
			t.Fatalf("%s: %d %s", f.fault, code, body)
		}
		st = waitStats(t, base, "shard 1 to recover from "+f.fault, func(st demo.Stats) bool {
			for _, n := range st.Errors[min(before, len(st.Errors)):] {
				if n.Source == "shard 1" && strings.Contains(n.Text, f.recovery) && strings.Contains(n.Text, f.cause) {
					return st.Shards[1].State == "READY"
				}
			}
			return false
		})
	}

	if code, body := do(t, "POST", base+"/api/say", "", map[string]string{"channel_id": d.Info.SampleChannel, "content": "!ping"}); code != 200 {
		t.Fatalf("say: %d %s", code, body)
	}
	waitStats(t, base, "!ping answered", func(st demo.Stats) bool { return st.PingsAnswered == 1 })
	var evs []demo.RecentEvent
	for deadline := time.Now().Add(10 * time.Second); ; {
		_, body := do(t, "GET", base+"/api/events", "", nil)
		mustJSON(t, body, &evs)
		if strings.Contains(string(body), "ipcord-demo: pong! shard") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the bot's answer never came back as an event: %s", body)
		}
		time.Sleep(20 * time.Millisecond)
	}

	// "/ping" typed as a sample user runs the slash command: its
	// INTERACTION_CREATE comes over the gateway and is answered through
	// the callback route.
	if code, body := do(t, "POST", base+"/api/say", "", map[string]string{"channel_id": d.Info.SampleChannel, "content": "/ping"}); code != 200 || !strings.Contains(string(body), `"type":2`) {
		t.Fatalf("say /ping: %d %s", code, body)
	}
	waitStats(t, base, "/ping answered", func(st demo.Stats) bool { return st.Answered == 1 })

	// A failed IPC call is in the error feed too.
	c, err := ipc.Dial(testCtx(t), ipc.ClientConfig{URL: d.Info.IPCURL, Secret: d.Info.Secret, Identifier: "tool"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Call(testCtx(t), "nope", nil, nil); !errors.Is(err, ipc.ErrUnknownRoute) {
		t.Fatalf("nope: %v", err)
	}
	waitStats(t, base, "the failed call in the feed", func(st demo.Stats) bool {
		for _, n := range st.Errors {
			if n.Level == "error" && n.Source == "ipc" && strings.Contains(n.Text, `nope from "tool": unknown_route`) {
				return true
			}
		}
		return false
	})

	st, _ = consoleStats(t, base)
	var stats *demo.RouteStat
	for i, r := range st.IPCRoutes {
		if r.Route == demo.RouteStats {
			stats = &st.IPCRoutes[i]
		}
	}
	if stats == nil || stats.Calls < 3 || stats.Errors != 0 || stats.SumMS <= 0 || stats.P99MS <= 0 {
		t.Errorf("route stats of %q: %+v", demo.RouteStats, st.IPCRoutes)
	}

	fams, err := promscrape.Scrape(nil, d.Info.MetricsURL)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range fams.Mismatches(
		promscrape.Want{Name: "ipcord_shard_resumes_total", Labels: map[string]string{"shard": "0"}, Value: 1},
		promscrape.Want{Name: "ipcord_shard_resumes_total", Labels: map[string]string{"shard": "1"}, Value: 2},
		promscrape.Want{Name: "ipcord_shard_identifies_total", Labels: map[string]string{"shard": "1"}, Value: 2},
		promscrape.Want{Name: "ipcord_shard_state", Labels: map[string]string{"shard": "0", "state": "ready"}, Value: 1},
		promscrape.Want{Name: "ipcord_ipc_connections", Labels: map[string]string{"server": "demo-bot"}, Value: 2},
		promscrape.Want{Name: "ipcord_shard_events_total", Labels: map[string]string{"type": "INTERACTION_CREATE"}, Value: 1},
	) {
		t.Error(m)
	}
	if v, _ := fams.Value("ipcord_ipc_calls_total", map[string]string{"server": "demo-bot", "route": "stats"}); v < 3 {
		t.Errorf("stats calls %g", v)
	}
	if v, _ := fams.Value("ipcord_shard_events_total", map[string]string{"type": "MESSAGE_CREATE"}); v < 1 {
		t.Errorf("MESSAGE_CREATE events %g", v)
	}
	if code, body := do(t, "GET", base+"/healthz", "", nil); code != 200 || !strings.Contains(string(body), `"shards":"ok"`) {
		t.Errorf("healthz %d %s", code, body)
	}
}
