package metrics_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ipcord/ipcord/discord"
	"github.com/ipcord/ipcord/discordtest"
	"github.com/ipcord/ipcord/gateway"
	"github.com/ipcord/ipcord/gateway/shard"
	"github.com/ipcord/ipcord/interactions"
	"github.com/ipcord/ipcord/internal/leaktest"
	"github.com/ipcord/ipcord/internal/promscrape"
	"github.com/ipcord/ipcord/ipc"
	"github.com/ipcord/ipcord/metrics"
	"github.com/ipcord/ipcord/rest"
)

// scraper serves a Recorder's Handler (and a Health) over real HTTP on
// 127.0.0.1 and parses what it serves with Prometheus's own text parser.
type scraper struct {
	t   *testing.T
	url string
}

func serveMetrics(t *testing.T, rec *metrics.Recorder, h *metrics.Health) *scraper {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", rec.Handler())
	if h != nil {
		mux.Handle("GET /healthz", h)
	}
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &scraper{t: t, url: srv.URL}
}

func (s *scraper) scrape() promscrape.Families {
	s.t.Helper()
	fams, err := promscrape.Scrape(nil, s.url+"/metrics")
	if err != nil {
		s.t.Fatal(err)
	}
	return fams
}

func value(fams promscrape.Families, name string, want map[string]string) (float64, bool) {
	return fams.Value(name, want)
}

// expect fails the test unless the series has the value want.
func expect(t *testing.T, fams promscrape.Families, name string, labels map[string]string, want float64) {
	t.Helper()
	got, ok := fams.Value(name, labels)
	if !ok {
		t.Errorf("%s%v: no such series", name, labels)
	} else if got != want {
		t.Errorf("%s%v = %g, want %g", name, labels, got, want)
	}
}

// poll waits for cond, failing after d.
func poll(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func newRecorder(t *testing.T) *metrics.Recorder {
	t.Helper()
	rec, err := metrics.New(metrics.Config{})
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

// IPC traffic over a real WebSocket shows up as calls, errors by code,
// latency and connections, and the numbers follow the traffic.
func TestIPCMetricsScraped(t *testing.T) {
	leaktest.Check(t)
	rec := newRecorder(t)
	r := ipc.NewRouter()
	r.Handle("ping", ipc.Func(func(ctx context.Context, _ struct{}) (string, error) { return "pong", nil }))
	r.Handle("slow", ipc.Func(func(ctx context.Context, _ struct{}) (string, error) {
		time.Sleep(30 * time.Millisecond)
		return "done", nil
	}))
	r.Handle("fail", ipc.Func(func(ctx context.Context, _ struct{}) (any, error) {
		return nil, &ipc.Error{Code: "guild_not_found", Message: "no"}
	}))
	srv := &ipc.Server{Router: r, Secret: "s", Name: "bot"}
	if err := rec.IPCServer(srv); err != nil {
		t.Fatal(err)
	}
	if err := rec.IPCServer(srv); !errors.Is(err, metrics.ErrRegistered) {
		t.Fatalf("a second IPCServer for one name: %v, want ErrRegistered", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { srv.Serve(ln); close(done) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		<-done
	})
	s := serveMetrics(t, rec, nil)

	fams := s.scrape()
	expect(t, fams, "ipcord_ipc_connections", map[string]string{"server": "bot"}, 0)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := ipc.Dial(ctx, ipc.ClientConfig{URL: "ws://" + ln.Addr().String(), Secret: "s"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for range 3 {
		if err := c.Call(ctx, "ping", nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Call(ctx, "slow", nil, nil); err != nil {
		t.Fatal(err)
	}
	if err := c.Call(ctx, "fail", nil, nil); err == nil {
		t.Fatal("fail succeeded")
	}
	if err := c.Call(ctx, "no-such-route", nil, nil); !errors.Is(err, ipc.ErrUnknownRoute) {
		t.Fatalf("unknown route: %v", err)
	}

	fams = s.scrape()
	bot := func(kv ...string) map[string]string {
		m := map[string]string{"server": "bot"}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	expect(t, fams, "ipcord_ipc_connections", bot(), 1)
	expect(t, fams, "ipcord_ipc_calls_total", bot("route", "ping"), 3)
	expect(t, fams, "ipcord_ipc_calls_total", bot("route", "fail"), 1)
	expect(t, fams, "ipcord_ipc_calls_total", bot("route", "(unknown)"), 1)
	expect(t, fams, "ipcord_ipc_errors_total", bot("route", "fail", "code", "guild_not_found"), 1)
	expect(t, fams, "ipcord_ipc_errors_total", bot("route", "(unknown)", "code", ipc.CodeUnknownRoute), 1)
	if _, ok := value(fams, "ipcord_ipc_errors_total", bot("route", "ping")); ok {
		t.Error("errors counted for a route that never failed")
	}
	expect(t, fams, "ipcord_ipc_call_duration_seconds", bot("route", "ping"), 3)
	// The slow call's 30 ms lands above the 25 ms bucket.
	slow := fams.Series("ipcord_ipc_call_duration_seconds", bot("route", "slow"))
	if slow == nil {
		t.Fatal("no latency histogram for slow")
	}
	for _, b := range slow.Histogram.GetBucket() {
		if b.GetUpperBound() == 0.025 && b.GetCumulativeCount() != 0 {
			t.Errorf("the 30 ms call is counted at or below 25 ms")
		}
	}
	if sum := slow.Histogram.GetSampleSum(); sum < 0.03 {
		t.Errorf("latency sum %g s for a 30 ms handler", sum)
	}

	c.Close()
	poll(t, 5*time.Second, "the connection gauge to drop", func() bool {
		v, _ := value(s.scrape(), "ipcord_ipc_connections", bot())
		return v == 0
	})
}

// A shard's life (events, heartbeats, a close with 4000 and the resume
// after it) shows up in its metrics; Health turns 503 once a shard stops
// for good.
func TestShardMetricsAndHealthScraped(t *testing.T) {
	leaktest.Check(t)
	// Heartbeats every second: often enough to see ACKs, rare enough that
	// a loaded machine does not look like a zombie connection.
	g := &discordtest.Gateway{HeartbeatInterval: time.Second}
	if err := g.Start(); err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	rec := newRecorder(t)
	s, err := shard.New(shard.Config{
		Gateway: gateway.Config{Token: "token", URL: g.URL(), Intents: gateway.IntentGuilds, MinHeartbeatInterval: time.Millisecond},
		Handler: rec.ShardHandler(nil),
		Backoff: shard.Backoff{Base: 10 * time.Millisecond, Max: 50 * time.Millisecond},
	})
	if err != nil {
		t.Fatal(err)
	}
	status := func() []shard.Status { return []shard.Status{s.Status()} }
	if err := rec.Shards(status); err != nil {
		t.Fatal(err)
	}
	health := &metrics.Health{}
	health.Add("shards", metrics.ShardsRunning(status))
	sc := serveMetrics(t, rec, health)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- s.Run(ctx) }()

	sh := map[string]string{"shard": "0"}
	ready := func() bool {
		v, _ := value(sc.scrape(), "ipcord_shard_state", map[string]string{"shard": "0", "state": "ready"})
		return v == 1
	}
	poll(t, 5*time.Second, "shard_state ready", ready)
	for i := range 5 {
		if _, err := g.Dispatch(0, "MESSAGE_CREATE", map[string]any{"id": fmt.Sprint(i + 1), "channel_id": "2", "content": "hi"}); err != nil {
			t.Fatal(err)
		}
	}
	poll(t, 5*time.Second, "5 MESSAGE_CREATE events counted", func() bool {
		v, _ := value(sc.scrape(), "ipcord_shard_events_total", map[string]string{"shard": "0", "type": "MESSAGE_CREATE"})
		return v == 5
	})
	poll(t, 5*time.Second, "a heartbeat ACK", func() bool {
		_, ok := value(sc.scrape(), "ipcord_shard_last_ack_age_seconds", sh)
		return ok
	})
	fams := sc.scrape()
	expect(t, fams, "ipcord_shard_events_total", map[string]string{"shard": "0", "type": "READY"}, 1)
	expect(t, fams, "ipcord_shard_identifies_total", sh, 1)
	expect(t, fams, "ipcord_shard_resumes_total", sh, 0)
	expect(t, fams, "ipcord_shard_last_close_code", sh, 0)
	expect(t, fams, "ipcord_shard_state", map[string]string{"shard": "0", "state": "backoff"}, 0)
	if age, _ := value(fams, "ipcord_shard_last_ack_age_seconds", sh); age < 0 || age > 10 {
		t.Errorf("last ACK age %g s with ACKs every second", age)
	}
	if code := healthz(t, sc.url); code != 200 {
		t.Fatalf("healthz %d while the shard runs", code)
	}

	if err := g.CloseShard(0, 4000, "test"); err != nil {
		t.Fatal(err)
	}
	poll(t, 10*time.Second, "the resume", func() bool {
		v, _ := value(sc.scrape(), "ipcord_shard_resumes_total", sh)
		return v >= 1 && ready()
	})
	// Each reconnect resumed and was counted once, whatever else a loaded
	// machine added.
	fams = sc.scrape()
	resumes, _ := value(fams, "ipcord_shard_resumes_total", sh)
	expect(t, fams, "ipcord_shard_last_close_code", sh, 4000)
	expect(t, fams, "ipcord_shard_reconnects_total", sh, resumes)
	expect(t, fams, "ipcord_shard_events_total", map[string]string{"shard": "0", "type": "RESUMED"}, resumes)

	// 4004 (authentication failed) stops the shard for good.
	if err := g.CloseShard(0, 4004, "bad token"); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-errc:
		if !errors.Is(err, shard.ErrFatal) {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after 4004")
	}
	if code := healthz(t, sc.url); code != 503 {
		t.Fatalf("healthz %d after the shard stopped", code)
	}
	expect(t, sc.scrape(), "ipcord_shard_state", map[string]string{"shard": "0", "state": "stopped"}, 1)
}

func healthz(t *testing.T, base string) int {
	t.Helper()
	resp, err := http.Get(base + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Status string            `json:"status"`
		Checks map[string]string `json:"checks"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	if (resp.StatusCode == 200) != (body.Status == "ok") || body.Checks["shards"] == "" {
		t.Fatalf("healthz %d %+v", resp.StatusCode, body)
	}
	return resp.StatusCode
}

// Signed interactions over real HTTP: answers by status, a defer and its
// late delivery, a bad signature.
func TestInteractionsMetricsScraped(t *testing.T) {
	leaktest.Check(t)
	signer, err := discordtest.NewSigner()
	if err != nil {
		t.Fatal(err)
	}
	fake, err := discordtest.NewServer(&discordtest.ServerOptions{Token: "t", Application: discord.Application{ID: 11}})
	if err != nil {
		t.Fatal(err)
	}
	defer fake.Close()
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	rec := newRecorder(t)
	cfg := interactions.Config{
		PublicKey:  signer.PublicKeyHex(),
		REST:       &rest.Client{Token: "t", BaseURL: fake.URL, HTTPClient: &http.Client{Transport: tr}},
		DeferAfter: 200 * time.Millisecond,
	}
	rec.Interactions(&cfg)
	ep, err := interactions.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer ep.Shutdown(context.Background())
	release := make(chan struct{})
	ep.Command(discord.CommandChatInput, "fast", func(context.Context, *interactions.Event) (*interactions.Response, error) {
		return interactions.Reply("now"), nil
	})
	ep.Command(discord.CommandChatInput, "slow", func(ctx context.Context, _ *interactions.Event) (*interactions.Response, error) {
		<-release
		return interactions.Reply("later"), nil
	})
	front := httptest.NewServer(rec.InteractionsHandler(ep))
	defer front.Close()
	sc := serveMetrics(t, rec, nil)

	post := func(body string, sign bool) int {
		t.Helper()
		req, err := signer.NewRequest(context.Background(), front.URL, []byte(body))
		if err != nil {
			t.Fatal(err)
		}
		if !sign {
			req.Header.Set("X-Signature-Ed25519", strings.Repeat("0", 128))
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	cmd := func(name string) string {
		return `{"id":"1100000000000000000","application_id":"11","type":2,"token":"tok","version":1,` +
			`"member":{"user":{"id":"5","username":"u"},"roles":[]},"data":{"id":"9","name":"` + name + `","type":1}}`
	}
	for range 2 {
		if st := post(cmd("fast"), true); st != 200 {
			t.Fatalf("fast: %d", st)
		}
	}
	if st := post(`{"type":1}`, false); st != 401 {
		t.Fatalf("bad signature: %d", st)
	}
	if st := post(cmd("slow"), true); st != 200 {
		t.Fatalf("slow: %d", st)
	}
	fams := sc.scrape()
	expect(t, fams, "ipcord_interactions_requests_total", map[string]string{"status": "200"}, 3)
	expect(t, fams, "ipcord_interactions_requests_total", map[string]string{"status": "401"}, 1)
	expect(t, fams, "ipcord_interactions_deferred_total", nil, 1)
	if _, ok := value(fams, "ipcord_interactions_late_answers_total", map[string]string{"result": "delivered"}); ok {
		t.Error("a late answer counted before the listener answered")
	}
	close(release)
	poll(t, 5*time.Second, "the late answer delivered", func() bool {
		v, _ := value(sc.scrape(), "ipcord_interactions_late_answers_total", map[string]string{"result": "delivered"})
		return v == 1
	})
	if !bytes.Contains(fake.Requests()[len(fake.Requests())-1].JSON, []byte("later")) {
		t.Error("the late answer never reached Discord")
	}
	expect(t, sc.scrape(), "ipcord_interactions_listener_errors_total", nil, 0)
}
