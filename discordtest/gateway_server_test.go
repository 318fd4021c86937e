package discordtest

import (
	"encoding/json"

	"github.com/ipcord/ipcord/internal/wsproto"
	"net/http"
	"testing"
	"time"

	"github.com/ipcord/ipcord/discord"
	"github.com/ipcord/ipcord/internal/leaktest"
)

// The REST fake's session start budget is the one IDENTIFY spends, and a
// RESUME spends none.
func TestGatewaySpendsServerSessionStarts(t *testing.T) {
	leaktest.Check(t)
	ctx := testCtx(t)
	srv, err := NewServer(nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	before := srv.GatewayBot().SessionStartLimit.Remaining
	g := startGateway(t, &Gateway{SessionStarts: srv})
	c := mustDial(t, g.URL(), "v=10")
	r := c.identify(ctx, 0, 1)
	if got := srv.GatewayBot().SessionStartLimit.Remaining; got != before-1 {
		t.Fatalf("remaining after IDENTIFY = %d, want %d", got, before-1)
	}
	c.ws.Close(4000, "")
	c2 := mustDial(t, g.ResumeURL(), "v=10")
	c2.mustRead(ctx)
	c2.mustSend(ctx, resumePayload("tok", r.SessionID, 1))
	c2.readUntil(ctx, 0, "RESUMED")
	if got := srv.GatewayBot().SessionStartLimit.Remaining; got != before-1 {
		t.Fatalf("remaining after RESUME = %d, want %d", got, before-1)
	}
}

// session_start_limit as GET /gateway/bot reports it: remaining falls per
// IDENTIFY, reset_after counts down by the Server's clock, and the budget
// is whole again once it reaches zero. A budget set below what a bot keeps
// in reserve is what GET /gateway/bot then says.
func TestServerSessionStartLimitResets(t *testing.T) {
	leaktest.Check(t)
	clock := newFakeClock()
	srv, err := NewServer(&ServerOptions{Now: clock.Now, GatewayBot: discord.GatewayBot{
		SessionStartLimit: discord.SessionStartLimit{Total: 5, Remaining: 3, ResetAfter: 60_000, MaxConcurrency: 16}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	get := func() discord.SessionStartLimit {
		t.Helper()
		resp, err := http.Get(srv.URL + "/gateway/bot")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var gb discord.GatewayBot
		if err := json.NewDecoder(resp.Body).Decode(&gb); err != nil {
			t.Fatal(err)
		}
		return gb.SessionStartLimit
	}
	if !srv.ConsumeSessionStart() {
		t.Fatal("first start refused")
	}
	clock.Advance(20 * time.Second)
	if l := get(); l != (discord.SessionStartLimit{Total: 5, Remaining: 2, ResetAfter: 40_000, MaxConcurrency: 16}) {
		t.Fatalf("after one start and 20 s: %+v", l)
	}
	srv.ConsumeSessionStart()
	srv.ConsumeSessionStart()
	if srv.ConsumeSessionStart() {
		t.Fatal("a start past the budget was allowed")
	}
	clock.Advance(40 * time.Second)
	if l := get(); l.Remaining != 5 || l.ResetAfter != 86_400_000 {
		t.Fatalf("after reset_after: %+v", l)
	}
	srv.SetGatewayBot(discord.GatewayBot{URL: "ws://x", Shards: 1, SessionStartLimit: discord.SessionStartLimit{Total: 1000, Remaining: 2, ResetAfter: 5000, MaxConcurrency: 1}})
	if l := get(); l.Remaining != 2 || l.ResetAfter != 5000 {
		t.Fatalf("after SetGatewayBot: %+v", l)
	}
}

// A session whose connection is gone (a close other than 1000/1001, or a
// dropped TCP connection) stays resumable for SessionTimeout and keeps the
// dispatches sent meanwhile; after that it is gone.
func TestGatewaySessionTimeout(t *testing.T) {
	leaktest.Check(t)
	ctx := testCtx(t)
	clock := newFakeClock()
	g, c, r := connected(t, &Gateway{Now: clock.Now, SessionTimeout: time.Minute}, "v=10")
	c.ws.Close(4000, "handing over")
	waitDetached(t, g, 0)
	clock.Advance(59 * time.Second)
	if _, err := g.Dispatch(0, "MESSAGE_CREATE", map[string]int{"n": 1}); err != nil {
		t.Fatalf("dispatch to a detached session: %v", err)
	}
	c2 := mustDial(t, g.ResumeURL(), "v=10")
	c2.mustRead(ctx)
	c2.mustSend(ctx, resumePayload("tok", r.SessionID, 1))
	if p := c2.mustRead(ctx); p.T != "MESSAGE_CREATE" || *p.S != 2 {
		t.Fatalf("replay after 59 s: %+v", p)
	}
	c2.readUntil(ctx, 0, "RESUMED")

	// Dropped without a close frame: resumable too, until the timeout.
	c2.ws.CloseNow()
	waitDetached(t, g, 0)
	clock.Advance(61 * time.Second)
	if _, err := g.Dispatch(0, "MESSAGE_CREATE", map[string]int{"n": 2}); err == nil {
		t.Fatal("dispatch to an expired session succeeded")
	}
	if _, ok := g.Session(0); ok {
		t.Fatal("expired session still listed")
	}
	c3 := mustDial(t, g.ResumeURL(), "v=10")
	c3.mustRead(ctx)
	c3.mustSend(ctx, resumePayload("tok", r.SessionID, 3))
	if p := c3.mustRead(ctx); p.Op != opInvalidSession || string(p.D) != "false" {
		t.Fatalf("resume of an expired session: %+v", p)
	}
}

// A connected session never expires, however long it lives.
func TestGatewayConnectedSessionDoesNotExpire(t *testing.T) {
	leaktest.Check(t)
	ctx := testCtx(t)
	clock := newFakeClock()
	g, c, _ := connected(t, &Gateway{Now: clock.Now, SessionTimeout: time.Second}, "v=10")
	clock.Advance(time.Hour)
	if _, err := g.Dispatch(0, "X", map[string]int{}); err != nil {
		t.Fatal(err)
	}
	c.readUntil(ctx, 0, "X")
}

// waitDetached waits until the shard's session has no connection.
func waitDetached(t *testing.T, g *Gateway, shard int) {
	t.Helper()
	err := g.waitFor(testCtx(t), func() bool {
		s := g.current[shard]
		return s != nil && s.conn == nil
	})
	if err != nil {
		t.Fatalf("session of shard %d never detached: %v", shard, err)
	}
}

// A client answering the Gateway's close 4000 with 1000 (as discordgo
// does) keeps its session: only a close the client starts with 1000 or
// 1001 ends it.
func TestGatewayCloseEchoKeepsSession(t *testing.T) {
	leaktest.Check(t)
	ctx := testCtx(t)
	g := startGateway(t, &Gateway{})
	c := rawDial(t, g.URL(), "v=10")
	c.next() // HELLO
	c.send(identifyPayload("tok", 0, 1, 0))
	var ready struct {
		D struct {
			SessionID string `json:"session_id"`
		} `json:"d"`
	}
	m, _ := c.next()
	json.Unmarshal(m.Payload, &ready)
	if err := g.CloseShard(0, 4000, "test"); err != nil {
		t.Fatal(err)
	}
	for m.Op != wsproto.OpClose {
		m, _ = c.next()
	}
	c.nc.Write(wsproto.AppendClose(nil, wsproto.Client, wsproto.MaskKey(), 1000, ""))
	c.nc.Close()
	waitDetached(t, g, 0)
	c2 := mustDial(t, g.ResumeURL(), "v=10")
	c2.mustRead(ctx)
	c2.mustSend(ctx, resumePayload("tok", ready.D.SessionID, 1))
	if p := c2.mustRead(ctx); p.T != "RESUMED" {
		t.Fatalf("resume after a 1000 answering 4000: %+v", p)
	}
}

// After INVALID_SESSION d:false the connection is unauthenticated, not
// dead: an IDENTIFY on it (as discordgo sends) starts a new session.
func TestGatewayIdentifyAfterInvalidSession(t *testing.T) {
	leaktest.Check(t)
	ctx := testCtx(t)
	clock := newFakeClock()
	g, c, r := connected(t, &Gateway{Now: clock.Now}, "v=10")
	if err := g.SendInvalidSession(0, false); err != nil {
		t.Fatal(err)
	}
	c.readUntil(ctx, opInvalidSession, "")
	clock.Advance(5 * time.Second)
	c.mustSend(ctx, identifyPayload("tok", 0, 1, 0))
	p := c.readUntil(ctx, 0, "READY")
	var again readyInfo
	json.Unmarshal(p.D, &again)
	if again.SessionID == "" || again.SessionID == r.SessionID {
		t.Fatalf("READY after op 9: %s", p.D)
	}
	if si, ok := g.Session(0); !ok || si.ID != again.SessionID || si.Conn == 0 {
		t.Fatalf("session %+v %v", si, ok)
	}
}
