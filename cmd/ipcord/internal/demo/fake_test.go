package demo_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/ipcord/ipcord/cmd/ipcord/internal/demo"
	"github.com/ipcord/ipcord/internal/leaktest"
)

func TestFakeRESTBothVersionsAndGatewayURL(t *testing.T) {
	leaktest.Check(t)
	f := startFake(t, demo.FakeConfig{Token: "tok", Shards: 2, Guilds: 4})
	for _, v := range []string{"v9", "v10"} {
		code, body := do(t, "GET", f.URL()+"/api/"+v+"/gateway", "", nil)
		var g struct{ URL string }
		mustJSON(t, body, &g)
		if code != 200 || g.URL != f.GatewayURL() {
			t.Errorf("GET /api/%s/gateway = %d %s, want url %s", v, code, body, f.GatewayURL())
		}
		code, body = do(t, "GET", f.URL()+"/api/"+v+"/gateway/bot", "tok", nil)
		var gb struct {
			URL    string
			Shards int
		}
		mustJSON(t, body, &gb)
		if code != 200 || gb.URL != f.GatewayURL() || gb.Shards != 2 {
			t.Errorf("GET /api/%s/gateway/bot = %d %s", v, code, body)
		}
		code, body = do(t, "GET", f.URL()+"/api/"+v+"/applications/@me", "tok", nil)
		if code != 200 || !strings.Contains(string(body), `"ipcord-demo"`) {
			t.Errorf("GET /api/%s/applications/@me = %d %s", v, code, body)
		}
	}
	if code, _ := do(t, "GET", f.URL()+"/api/v10/gateway/bot", "wrong", nil); code != http.StatusUnauthorized {
		t.Errorf("gateway/bot with a wrong token = %d, want 401", code)
	}
}

func TestFakeCreateMessageEmitsMessageCreate(t *testing.T) {
	leaktest.Check(t)
	ctx := testCtx(t)
	f := startFake(t, demo.FakeConfig{Token: "tok", Shards: 2, Guilds: 4})
	g := f.Guilds()[1] // guild 1 is on shard 1 of 2
	c := identify(t, ctx, f.GatewayURL(), "tok", 1, 2)
	code, body := do(t, "POST", f.URL()+"/api/v9/channels/"+sfmt(g.ChannelID)+"/messages", "tok", map[string]string{"content": "hi there"})
	if code != 200 {
		t.Fatalf("create message = %d %s", code, body)
	}
	p := c.waitFor(ctx, func(p wsPayload) bool { return p.T == "MESSAGE_CREATE" })
	var m struct {
		Content, GuildID, ChannelID string
		Author                      struct{ ID string }
	}
	json.Unmarshal(p.D, &m)
	var mm map[string]any
	json.Unmarshal(p.D, &mm)
	if m.Content != "hi there" || mm["guild_id"] != sfmt(g.ID) || mm["channel_id"] != sfmt(g.ChannelID) {
		t.Errorf("MESSAGE_CREATE = %s", p.D)
	}
}

func TestFakeControlDispatchFaultAndSent(t *testing.T) {
	leaktest.Check(t)
	ctx := testCtx(t)
	f := startFake(t, demo.FakeConfig{Shards: 2, Guilds: 2})
	c0 := identify(t, ctx, f.GatewayURL(), "any", 0, 2)

	// By guild_id: guild 0 is on shard 0.
	g := f.Guilds()[0]
	code, body := do(t, "POST", f.URL()+"/_fake/dispatch", "", map[string]any{
		"t": "TYPING_START", "d": map[string]any{"guild_id": sfmt(g.ID), "user_id": "5"},
	})
	if code != 200 || !strings.Contains(string(body), `"shard":0`) {
		t.Fatalf("dispatch = %d %s", code, body)
	}
	if p := c0.waitFor(ctx, func(p wsPayload) bool { return p.T != "GUILD_CREATE" }); p.T != "TYPING_START" {
		t.Errorf("got %s, want TYPING_START", p.T)
	}
	// Explicit shard 0 without guild.
	code, _ = do(t, "POST", f.URL()+"/_fake/dispatch", "", `{"t":"CUSTOM_EVENT","d":{"x":1},"shard":0}`)
	if code != 200 {
		t.Fatalf("dispatch to shard 0 = %d", code)
	}
	if p := c0.next(ctx); p.T != "CUSTOM_EVENT" || string(p.D) != `{"x":1}` {
		t.Errorf("got %s %s", p.T, p.D)
	}
	// Shard 1 has no session: a conflict, not a crash.
	if code, body := do(t, "POST", f.URL()+"/_fake/dispatch", "", `{"t":"X","shard":1}`); code != http.StatusConflict {
		t.Errorf("dispatch to a shard without session = %d %s", code, body)
	}
	for _, bad := range []string{`{"d":{}}`, `not json`, `{"t":"X","shard":-1}`, `{"t":"X","extra":1}`} {
		if code, body := do(t, "POST", f.URL()+"/_fake/dispatch", "", bad); code != http.StatusBadRequest || !strings.Contains(string(body), "bad control request") {
			t.Errorf("dispatch %s = %d %s, want 400", bad, code, body)
		}
	}

	// A gateway fault by name.
	if code, body := do(t, "POST", f.URL()+"/_fake/fault", "", `{"name":"reconnect","shard":0}`); code != 200 {
		t.Fatalf("fault = %d %s", code, body)
	}
	if p := c0.next(ctx); p.Op != 7 {
		t.Errorf("after the reconnect fault got op %d, want 7", p.Op)
	}
	if code, _ := do(t, "POST", f.URL()+"/_fake/fault", "", `{"name":"meteor"}`); code != http.StatusBadRequest {
		t.Errorf("unknown fault = %d, want 400", code)
	}
	// The network flapping for a minute, then no more (discordtest's
	// TestGatewayFlap checks what flapping does).
	for _, req := range []string{`{"name":"flap","ms":60000}`, `{"name":"flap"}`} {
		if code, body := do(t, "POST", f.URL()+"/_fake/fault", "", req); code != 200 {
			t.Fatalf("fault %s = %d %s", req, code, body)
		}
	}
	// A REST fault by name.
	if code, body := do(t, "POST", f.URL()+"/_fake/fault", "", `{"name":"rest","route":"POST /channels/*/messages","status":503}`); code != 200 {
		t.Fatalf("rest fault = %d %s", code, body)
	}
	if code, _ := do(t, "POST", f.URL()+"/api/v10/channels/"+sfmt(g.ChannelID)+"/messages", "", `{"content":"x"}`); code != 503 {
		t.Errorf("create message after the rest fault = %d, want 503", code)
	}

	code, body = do(t, "GET", f.URL()+"/_fake/sent", "", nil)
	var sent demo.Sent
	mustJSON(t, body, &sent)
	identified := false
	for _, p := range sent.Gateway {
		identified = identified || (p.Op == 2 && p.Shard == 0)
	}
	if code != 200 || !identified || len(sent.REST) == 0 || sent.REST[len(sent.REST)-1].Path != "/channels/"+sfmt(g.ChannelID)+"/messages" {
		t.Errorf("sent = %d %+v", code, sent)
	}
}

func TestFakeTraffic(t *testing.T) {
	leaktest.Check(t)
	ctx := testCtx(t)
	f := startFake(t, demo.FakeConfig{Guilds: 1, Traffic: 200})
	c := identify(t, ctx, f.GatewayURL(), "any", 0, 1)
	for range 3 {
		p := c.waitFor(ctx, func(p wsPayload) bool { return p.T == "MESSAGE_CREATE" })
		if !strings.Contains(string(p.D), sfmt(f.Guilds()[0].ID)) {
			t.Errorf("traffic message %s is not in the sample guild", p.D)
		}
	}
}

// With a ControlToken, the control API answers only requests that carry
// it; REST keeps its own (bot token) rules.
func TestFakeControlToken(t *testing.T) {
	leaktest.Check(t)
	f := startFake(t, demo.FakeConfig{Guilds: 1, ControlToken: "s3cret"})
	for _, auth := range []string{"", "Bearer wrong", "Bot s3cret"} {
		if code, _ := do(t, "GET", f.URL()+"/_fake/sent", auth, nil); code != http.StatusUnauthorized {
			t.Errorf("GET /_fake/sent with %q = %d, want 401", auth, code)
		}
		if code, _ := do(t, "POST", f.URL()+"/_fake/fault", auth, `{"name":"reconnect","shard":0}`); code != http.StatusUnauthorized {
			t.Errorf("POST /_fake/fault with %q = %d, want 401", auth, code)
		}
	}
	if code, body := do(t, "GET", f.URL()+"/_fake/sent", "Bearer s3cret", nil); code != 200 {
		t.Errorf("GET /_fake/sent with the token = %d %s", code, body)
	}
	if code, _ := do(t, "GET", f.URL()+"/api/v10/gateway", "", nil); code != 200 {
		t.Errorf("REST GET /gateway = %d; the control token must not guard REST", code)
	}
}
