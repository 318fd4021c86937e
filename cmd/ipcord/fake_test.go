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
	resp, err = http.Get(base + "/_fake/sent")
	if err != nil {
		t.Fatal(err)
	}
	var sent struct {
		Gateway []struct{ Op, Shard int }
	}
	json.NewDecoder(resp.Body).Decode(&sent)
	resp.Body.Close()
	if len(sent.Gateway) == 0 || sent.Gateway[0].Op != 2 || sent.Gateway[0].Shard != 0 {
		t.Errorf("sent %+v, want the IDENTIFY of shard 0 first", sent)
	}
}

func TestFakeCommandUsage(t *testing.T) {
	for _, args := range [][]string{
		{"fake", "--traffic", "fast"},
		{"fake", "--shards", "0"},
		{"fake", "extra"},
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
