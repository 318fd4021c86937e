package main

import (
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/ipcord/ipcord/internal/leaktest"
	"github.com/ipcord/ipcord/internal/promscrape"
)

func TestFakeCommandControlAPI(t *testing.T) {
	leaktest.Check(t)
	_, m := startCommand(t, regexp.MustCompile(`REST +(http://[0-9.:]+)/api/v10[^\n]*\n +gateway +(ws://[0-9.:]+)`),
		"fake", "--listen", "127.0.0.1:0", "--token", "t0k", "--guilds", "2", "--shards", "2", "--traffic", "0/s")
	base, gwURL := m[1], m[2]
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	// discordgo's way in: GET /api/v9/gateway, then the URL with a query.
	resp, err := http.Get(base + "/api/v9/gateway")
	if err != nil {
		t.Fatal(err)
	}
	var g struct{ URL string }
	json.NewDecoder(resp.Body).Decode(&g)
	resp.Body.Close()
	if g.URL != gwURL {
		t.Fatalf("GET /api/v9/gateway url %q, printed %q", g.URL, gwURL)
	}
	ws, _, err := websocket.Dial(ctx, g.URL+"?v=9&encoding=json", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	read := func() map[string]any {
		_, b, err := ws.Read(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var p map[string]any
		json.Unmarshal(b, &p)
		return p
	}
	if p := read(); p["op"] != 10.0 {
		t.Fatalf("first payload %v", p)
	}
	ws.Write(ctx, websocket.MessageText, []byte(`{"op":2,"d":{"token":"t0k","intents":513,"shard":[0,2],"properties":{"os":"linux","browser":"x","device":"x"}}}`))
	for p := read(); p["t"] != "READY"; p = read() {
	}

	post := func(path, body string) int {
		resp, err := http.Post(base+path, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := post("/_fake/dispatch", `{"t":"HELLO_FROM_A_SCRIPT","d":{"n":1},"shard":0}`); code != 200 {
		t.Fatalf("dispatch = %d", code)
	}
	for p := read(); p["t"] != "HELLO_FROM_A_SCRIPT"; p = read() {
	}
	if code := post("/_fake/fault", `{"name":"reconnect","shard":0}`); code != 200 {
		t.Fatalf("fault = %d", code)
	}
	for p := read(); p["op"] != 7.0; p = read() {
	}

	// A sample user types "!ping": the bot sees it as MESSAGE_CREATE.
	resp, err = http.Get(base + "/_fake/")
	if err != nil {
		t.Fatal(err)
	}
	var info struct {
		Guilds []struct {
			ChannelID string `json:"channel_id"`
		}
	}
	json.NewDecoder(resp.Body).Decode(&info)
	resp.Body.Close()
	if len(info.Guilds) != 2 {
		t.Fatalf("GET /_fake/: %+v", info)
	}
	// The fake's first guild is on shard 0, the one connected here.
	if code := post("/_fake/message", `{"channel_id":"`+info.Guilds[0].ChannelID+`","content":"!ping"}`); code != 200 {
		t.Fatalf("message = %d", code)
	}
	for p := read(); p["t"] != "MESSAGE_CREATE"; p = read() {
	}
	if code := post("/_fake/message", `{"channel_id":"1","content":""}`); code != 400 {
		t.Fatalf("an empty message = %d, want 400", code)
	}

	fams, err := promscrape.Scrape(nil, base+"/metrics")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range fams.Mismatches(
		promscrape.Want{Name: "ipcord_fake_faults_total", Labels: map[string]string{"name": "reconnect"}, Value: 1},
		promscrape.Want{Name: "ipcord_fake_dispatches_total", Labels: nil, Value: 1},
		promscrape.Want{Name: "ipcord_fake_user_messages_total", Labels: nil, Value: 1},
		promscrape.Want{Name: "ipcord_fake_gateway_connections_total", Labels: nil, Value: 1},
		promscrape.Want{Name: "ipcord_fake_rest_requests_total", Labels: map[string]string{"status": "200"}, Value: 1},
	) {
		t.Error(m)
	}
	wantHealthy(t, base)

	resp, err = http.Get(base + "/_fake/sent")
	if err != nil {
		t.Fatal(err)
	}
	var sent struct {
		Gateway []struct {
			Op, Shard       int
			Listener, Query string
		}
	}
	json.NewDecoder(resp.Body).Decode(&sent)
	resp.Body.Close()
	if len(sent.Gateway) == 0 || sent.Gateway[0].Op != 2 || sent.Gateway[0].Shard != 0 ||
		sent.Gateway[0].Listener != "main" || sent.Gateway[0].Query != "v=9&encoding=json" {
		t.Errorf("sent %+v, want the IDENTIFY of shard 0 first, on the main listener with its query", sent)
	}
}

// The identify budget is what the flags say, each IDENTIFY spends one, and
// a script can lower it below a bot's reserve.
func TestFakeCommandSessionStartLimit(t *testing.T) {
	leaktest.Check(t)
	_, m := startCommand(t, regexp.MustCompile(`REST +(http://[0-9.:]+)/api/v10[^\n]*\n +gateway +(ws://[0-9.:]+)`),
		"fake", "--listen", "127.0.0.1:0", "--shards", "4", "--max-concurrency", "2", "--session-starts", "50", "--session-starts-left", "7")
	base, gwURL := m[1], m[2]
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	limit := func() map[string]int {
		t.Helper()
		resp, err := http.Get(base + "/api/v10/gateway/bot")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var gb struct {
			Shards int
			Limit  map[string]int `json:"session_start_limit"`
		}
		json.NewDecoder(resp.Body).Decode(&gb)
		if gb.Shards != 4 {
			t.Fatalf("shards %d", gb.Shards)
		}
		return gb.Limit
	}
	if l := limit(); l["total"] != 50 || l["remaining"] != 7 || l["max_concurrency"] != 2 || l["reset_after"] <= 0 {
		t.Fatalf("session_start_limit %v", l)
	}
	ws, _, err := websocket.Dial(ctx, gwURL+"?v=10&encoding=json", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	ws.Write(ctx, websocket.MessageText, []byte(`{"op":2,"d":{"token":"x","intents":1,"shard":[1,4],"properties":{"os":"linux","browser":"x","device":"x"}}}`))
	for {
		_, b, err := ws.Read(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), `"READY"`) {
			break
		}
	}
	if l := limit(); l["remaining"] != 6 {
		t.Fatalf("after one IDENTIFY %v", l)
	}
	resp, err := http.Post(base+"/_fake/session_start_limit", "application/json", strings.NewReader(`{"remaining":1}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if l := limit(); resp.StatusCode != 200 || l["remaining"] != 1 || l["total"] != 50 {
		t.Fatalf("after POST: %d %v", resp.StatusCode, l)
	}
	resp, _ = http.Post(base+"/_fake/session_start_limit", "application/json", strings.NewReader(`{"remaining":-1}`))
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Fatalf("negative remaining: %d", resp.StatusCode)
	}
}

func TestFakeCommandUsage(t *testing.T) {
	for _, args := range [][]string{
		{"fake", "--traffic", "fast"},
		{"fake", "--shards", "0"},
		{"fake", "extra"},
		{"fake", "--max-concurrency", "-1"},
	} {
		e, _, errb := testEnv(nil)
		if code := runMain(context.Background(), e, args); code != 2 || !strings.Contains(errb.String(), "usage: ipcord fake") {
			t.Errorf("%q: exit %d, stderr %q", args, code, errb.String())
		}
	}
}

func TestParseRate(t *testing.T) {
	for in, want := range map[string]float64{"0": 0, "5": 5, "5/s": 5, "0.5/s": 0.5, " 2/s ": 2} {
		if got, err := parseRate(in); err != nil || got != want {
			t.Errorf("parseRate(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "x", "-1", "5/min", "1e9"} {
		if _, err := parseRate(in); err == nil {
			t.Errorf("parseRate(%q) accepted", in)
		}
	}
}

func TestFakeCommandControlToken(t *testing.T) {
	leaktest.Check(t)
	_, m := startCommand(t, regexp.MustCompile(`REST +(http://[0-9.:]+)/api/v10`),
		"fake", "--listen", "127.0.0.1:0", "--control-token", "k3y", "--guilds", "1")
	get := func(auth string) int {
		t.Helper()
		req, _ := http.NewRequest("GET", m[1]+"/_fake/sent", nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := get(""); code != http.StatusUnauthorized {
		t.Errorf("control API without the token = %d, want 401", code)
	}
	if code := get("Bearer k3y"); code != http.StatusOK {
		t.Errorf("control API with the token = %d, want 200", code)
	}
}

func TestLoopback(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:7878": true, "[::1]:0": true, "localhost:80": true,
		"0.0.0.0:7878": false, ":7878": false, "10.0.0.5:1": false, "nonsense": false,
	} {
		if got := loopback(addr); got != want {
			t.Errorf("loopback(%q) = %v, want %v", addr, got, want)
		}
	}
}
