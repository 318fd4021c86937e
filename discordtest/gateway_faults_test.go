package discordtest

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/ipcord/ipcord/internal/leaktest"
	"github.com/ipcord/ipcord/internal/syncbuf"
)

// connected starts a gateway and one identified client on shard 0.
func connected(t *testing.T, cfg *Gateway, query string) (*Gateway, *testClient, readyInfo) {
	t.Helper()
	g := startGateway(t, cfg)
	c := mustDial(t, g.URL(), query)
	r := c.identify(testCtx(t), 0, 1)
	return g, c, r
}

func countOps(g *Gateway, op int) int {
	n := 0
	for _, r := range g.Received() {
		if r.Op == op {
			n++
		}
	}
	return n
}

func TestGatewayStopHeartbeatACKs(t *testing.T) {
	leaktest.Check(t)
	ctx := testCtx(t)
	g, c, _ := connected(t, &Gateway{}, "v=10")
	if err := g.StopHeartbeatACKs(0); err != nil {
		t.Fatal(err)
	}
	c.mustSend(ctx, map[string]any{"op": 1, "d": 1})
	if _, err := g.WaitReceived(ctx, func(r Received) bool { return r.Op == opHeartbeat }); err != nil {
		t.Fatal(err)
	}
	// The heartbeat was handled before this dispatch was queued, so an ACK
	// would have been read first.
	g.Dispatch(0, "AFTER", nil)
	if p := c.mustRead(ctx); p.T != "AFTER" {
		t.Fatalf("got %+v, want no ACK", p)
	}
	// A new connection is ACKed again.
	c2 := mustDial(t, g.URL(), "v=10")
	c2.mustRead(ctx)
	c2.mustSend(ctx, map[string]any{"op": 1, "d": nil})
	if p := c2.mustRead(ctx); p.Op != opHeartbeatACK {
		t.Fatalf("new connection got %+v", p)
	}
}

func TestGatewayHoldAndDelayFrames(t *testing.T) {
	leaktest.Check(t)
	ctx := testCtx(t)
	g, c, _ := connected(t, &Gateway{}, "v=10&compress=zlib-stream")
	release, err := g.HoldFrames(0)
	if err != nil {
		t.Fatal(err)
	}
	g.Dispatch(0, "BURST", nil)
	c.mustSend(ctx, map[string]any{"op": 1, "d": 2})
	if _, err := g.WaitReceived(ctx, func(r Received) bool { return r.Op == opHeartbeat }); err != nil {
		t.Fatal(err)
	}
	conn := g.current[0].conn
	conn.qmu.Lock()
	queued := len(conn.queue)
	conn.qmu.Unlock()
	if queued != 2 {
		t.Fatalf("%d items queued while held, want the dispatch and the ACK", queued)
	}
	release()
	release() // a second call is harmless
	if p := c.mustRead(ctx); p.T != "BURST" {
		t.Fatalf("got %+v", p)
	}
	if p := c.mustRead(ctx); p.Op != opHeartbeatACK {
		t.Fatalf("got %+v, want the ACK behind the burst", p)
	}

	const delay = 50 * time.Millisecond
	start := time.Now()
	if err := g.DelayFrames(0, delay); err != nil {
		t.Fatal(err)
	}
	g.Dispatch(0, "LATE", nil)
	if p := c.mustRead(ctx); p.T != "LATE" {
		t.Fatalf("got %+v", p)
	}
	if el := time.Since(start); el < delay {
		t.Fatalf("delayed frame arrived after %v, before the %v delay", el, delay)
	}
}

func TestGatewayCloseShardKeepsSession(t *testing.T) {
	leaktest.Check(t)
	ctx := testCtx(t)
	g, c, r := connected(t, &Gateway{}, "v=10")
	if err := g.CloseShard(0, 4000, "unknown error"); err != nil {
		t.Fatal(err)
	}
	if code := c.closeCode(ctx); code != 4000 {
		t.Fatalf("close code %d", code)
	}
	if si, ok := g.Session(0); !ok || si.ID != r.SessionID {
		t.Fatalf("session after 4000: %+v %v", si, ok)
	}
	if err := g.CloseShard(0, 4000, ""); !errors.Is(err, ErrNoConnection) {
		t.Fatalf("CloseShard without a connection = %v", err)
	}
	// 4009 ends the session.
	c2 := mustDial(t, g.ResumeURL(), "v=10")
	c2.mustRead(ctx)
	c2.mustSend(ctx, resumePayload("tok", r.SessionID, 1))
	c2.readUntil(ctx, 0, "RESUMED")
	g.CloseShard(0, 4009, "session timed out")
	if code := c2.closeCode(ctx); code != 4009 {
		t.Fatalf("close code %d", code)
	}
	if _, ok := g.Session(0); ok {
		t.Fatal("session kept after 4009")
	}
}

func TestGatewayReconnectAndInvalidSession(t *testing.T) {
	leaktest.Check(t)
	ctx := testCtx(t)
	g, c, _ := connected(t, &Gateway{}, "v=10&compress=zstd-stream")
	if err := g.SendReconnect(0); err != nil {
		t.Fatal(err)
	}
	if p := c.mustRead(ctx); p.Op != opReconnect {
		t.Fatalf("got %+v", p)
	}
	if err := g.SendInvalidSession(0, true); err != nil {
		t.Fatal(err)
	}
	if p := c.mustRead(ctx); p.Op != opInvalidSession || string(p.D) != "true" {
		t.Fatalf("got %+v %s", p, p.D)
	}
	if _, ok := g.Session(0); !ok {
		t.Fatal("op 9 true dropped the session")
	}
	if err := g.SendInvalidSession(0, false); err != nil {
		t.Fatal(err)
	}
	if p := c.mustRead(ctx); p.Op != opInvalidSession || string(p.D) != "false" {
		t.Fatalf("got %+v %s", p, p.D)
	}
	if _, ok := g.Session(0); ok {
		t.Fatal("op 9 false kept the session")
	}
}

func TestGatewayCutMidFrame(t *testing.T) {
	leaktest.Check(t)
	ctx := testCtx(t)
	g, c, r := connected(t, &Gateway{}, "v=10")
	if err := g.CutMidFrame(0); err != nil {
		t.Fatal(err)
	}
	_, err := c.read(ctx)
	if err == nil || websocket.CloseStatus(err) != -1 {
		t.Fatalf("read after cut = %v, want an error without a close frame", err)
	}
	// Dispatches while the client is away are replayed on RESUME.
	if err := g.waitFor(ctx, func() bool { return g.current[0] != nil && g.current[0].conn == nil }); err != nil {
		t.Fatal(err)
	}
	g.Dispatch(0, "MISSED", nil)
	c2 := mustDial(t, g.ResumeURL(), "v=10")
	c2.mustRead(ctx)
	c2.mustSend(ctx, resumePayload("tok", r.SessionID, 1))
	if p := c2.mustRead(ctx); p.T != "MISSED" || *p.S != 2 {
		t.Fatalf("got %+v", p)
	}
	if p := c2.mustRead(ctx); p.T != "RESUMED" || *p.S != 3 {
		t.Fatalf("got %+v", p)
	}
}

func TestGatewayCorruptStream(t *testing.T) {
	for _, comp := range []string{compressZlib, compressZstd} {
		t.Run(comp, func(t *testing.T) {
			leaktest.Check(t)
			ctx := testCtx(t)
			g, c, _ := connected(t, &Gateway{}, "v=10&compress="+comp)
			if err := g.CorruptStream(0); err != nil {
				t.Fatal(err)
			}
			g.Dispatch(0, "AFTER", nil)
			_, err := c.read(ctx)
			if err == nil || websocket.CloseStatus(err) != -1 {
				t.Fatalf("read after corruption = %v, want a decompression error", err)
			}
		})
	}
	t.Run("plain", func(t *testing.T) {
		leaktest.Check(t)
		g, _, _ := connected(t, &Gateway{}, "v=10")
		if err := g.CorruptStream(0); !errors.Is(err, ErrNotCompressed) {
			t.Fatalf("CorruptStream on a plain connection = %v", err)
		}
	})
}

func TestGatewayRefuseConnections(t *testing.T) {
	leaktest.Check(t)
	ctx := testCtx(t)
	clock := newFakeClock()
	g := startGateway(t, &Gateway{Now: clock.Now})
	g.RefuseConnections(10 * time.Second)
	_, err := dialGateway(t, g.URL(), "v=10")
	if err == nil || !strings.Contains(err.Error(), "503") {
		t.Fatalf("dial while refusing = %v, want a 503", err)
	}
	_, err = dialGateway(t, g.ResumeURL(), "v=10")
	if err == nil || g.Refused() != 2 {
		t.Fatalf("resume listener while refusing = %v, refused %d", err, g.Refused())
	}
	clock.Advance(10 * time.Second)
	c := mustDial(t, g.URL(), "v=10")
	if p := c.mustRead(ctx); p.Op != opHello {
		t.Fatalf("got %+v", p)
	}
	_ = http.StatusServiceUnavailable
}

// While the network flaps, a connection gets its READY or RESUMED and is
// then dropped without a close frame; the session stays resumable, and
// once Flap ends connections stay up.
func TestGatewayFlap(t *testing.T) {
	leaktest.Check(t)
	ctx := testCtx(t)
	clock := newFakeClock()
	g := startGateway(t, &Gateway{Now: clock.Now})
	g.Flap(time.Minute)
	c := mustDial(t, g.URL(), "v=10")
	r := c.identify(ctx, 0, 1)
	if _, err := c.read(ctx); err == nil || websocket.CloseStatus(err) != -1 {
		t.Fatalf("read after READY while flapping = %v, want the connection dropped without a close frame", err)
	}
	c2 := mustDial(t, g.ResumeURL(), "v=10")
	c2.mustRead(ctx)
	c2.mustSend(ctx, resumePayload("tok", r.SessionID, 1))
	if p := c2.mustRead(ctx); p.T != "RESUMED" {
		t.Fatalf("got %+v, want RESUMED", p)
	}
	if _, err := c2.read(ctx); err == nil || websocket.CloseStatus(err) != -1 {
		t.Fatalf("read after RESUMED while flapping = %v, want the connection dropped", err)
	}
	clock.Advance(time.Minute)
	c3 := mustDial(t, g.ResumeURL(), "v=10")
	c3.mustRead(ctx)
	c3.mustSend(ctx, resumePayload("tok", r.SessionID, 2))
	if p := c3.mustRead(ctx); p.T != "RESUMED" {
		t.Fatalf("got %+v, want RESUMED", p)
	}
	g.Dispatch(0, "AFTER", nil)
	if p := c3.mustRead(ctx); p.T != "AFTER" {
		t.Fatalf("got %+v: the connection did not stay up after Flap ended", p)
	}
}

func TestGatewayDispatchGuildRouting(t *testing.T) {
	leaktest.Check(t)
	ctx := testCtx(t)
	g1 := guildOnShard(3, 1, 2)
	g := startGateway(t, &Gateway{Shards: 2, MaxConcurrency: 2, Guilds: []json.RawMessage{guildJSON(g1, "on one")}})
	if _, _, err := g.DispatchGuild(g1, "X", nil); !errors.Is(err, ErrNoSession) {
		t.Fatalf("DispatchGuild before any session = %v", err)
	}
	c0 := mustDial(t, g.URL(), "v=10")
	r0 := c0.identify(ctx, 0, 2)
	c1 := mustDial(t, g.URL(), "v=10")
	r1 := c1.identify(ctx, 1, 2)
	if len(r0.Guilds) != 0 || len(r1.Guilds) != 1 {
		t.Fatalf("READY guilds: shard 0 %v, shard 1 %v", r0.Guilds, r1.Guilds)
	}
	if p := c1.mustRead(ctx); p.T != "GUILD_CREATE" {
		t.Fatalf("shard 1 got %+v", p)
	}
	g0 := guildOnShard(5, 0, 2)
	if sh, _, err := g.DispatchGuild(g0, "FOR_ZERO", nil); err != nil || sh != 0 {
		t.Fatalf("DispatchGuild = %d, %v", sh, err)
	}
	if sh, _, err := g.DispatchGuild(g1, "FOR_ONE", nil); err != nil || sh != 1 {
		t.Fatalf("DispatchGuild = %d, %v", sh, err)
	}
	if p := c0.mustRead(ctx); p.T != "FOR_ZERO" {
		t.Fatalf("shard 0 got %+v", p)
	}
	if p := c1.mustRead(ctx); p.T != "FOR_ONE" {
		t.Fatalf("shard 1 got %+v", p)
	}
	// A guild added later arrives on its shard at once.
	if err := g.AddGuild(guildJSON(g0, "late")); err != nil {
		t.Fatal(err)
	}
	if p := c0.mustRead(ctx); p.T != "GUILD_CREATE" {
		t.Fatalf("shard 0 got %+v", p)
	}
	if err := g.AddGuild(json.RawMessage(`{"id":12}`)); !errors.Is(err, ErrBadGuild) {
		t.Fatalf("AddGuild with a numeric id = %v", err)
	}
}

func TestGatewayStartErrors(t *testing.T) {
	leaktest.Check(t)
	g := &Gateway{Guilds: []json.RawMessage{json.RawMessage(`[]`)}}
	if err := g.Start(); !errors.Is(err, ErrBadGuild) {
		t.Fatalf("Start with a bad guild = %v", err)
	}
	g = startGateway(t, &Gateway{})
	if err := g.Start(); !errors.Is(err, ErrGatewayStarted) {
		t.Fatalf("second Start = %v", err)
	}
	g.Close()
	if err := g.Start(); !errors.Is(err, ErrGatewayClosed) {
		t.Fatalf("Start after Close = %v", err)
	}
	if _, err := g.Dispatch(0, "X", nil); !errors.Is(err, ErrGatewayNotStarted) {
		t.Fatalf("Dispatch after Close = %v", err)
	}
	var zero Gateway
	if _, err := zero.Dispatch(0, "X", nil); !errors.Is(err, ErrGatewayNotStarted) {
		t.Fatalf("Dispatch before Start = %v", err)
	}
}

func TestGatewayReconnectBeforeHello(t *testing.T) {
	leaktest.Check(t)
	ctx := testCtx(t)
	g := startGateway(t, &Gateway{})
	g.ReconnectBeforeHello(1)
	c := mustDial(t, g.URL(), "v=10")
	if p := c.mustRead(ctx); p.Op != opReconnect {
		t.Fatalf("first payload %+v, want op 7", p)
	}
	if p := c.mustRead(ctx); p.Op != opHello {
		t.Fatalf("second payload %+v, want HELLO", p)
	}
	c2 := mustDial(t, g.URL(), "v=10")
	if p := c2.mustRead(ctx); p.Op != opHello {
		t.Fatalf("next connection's first payload %+v, want HELLO", p)
	}
}

// The logger sees connections and closes but never the token.
func TestGatewayLogsWithoutToken(t *testing.T) {
	leaktest.Check(t)
	ctx := testCtx(t)
	var buf syncbuf.Buffer
	g := startGateway(t, &Gateway{Token: "very-secret-token", Logger: slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	c := mustDial(t, g.URL(), "v=10")
	c.mustRead(ctx)
	c.mustSend(ctx, identifyPayload("very-secret-token", 0, 1, 0))
	c.readUntil(ctx, 0, "READY")
	g.CloseShard(0, 4000, "x")
	c.closeCode(ctx)
	out := buf.String()
	if !strings.Contains(out, "session started") || !strings.Contains(out, "code=4000") || strings.Contains(out, "very-secret-token") {
		t.Fatalf("log:\n%s", out)
	}
}

func TestGatewayDropSession(t *testing.T) {
	leaktest.Check(t)
	ctx := testCtx(t)
	g, c, r := connected(t, &Gateway{}, "v=10")
	if err := g.DropSession(0); err != nil {
		t.Fatal(err)
	}
	if _, err := g.Dispatch(0, "X", nil); !errors.Is(err, ErrNoSession) {
		t.Fatalf("Dispatch after DropSession = %v", err)
	}
	if err := g.DropSession(0); !errors.Is(err, ErrNoSession) {
		t.Fatalf("second DropSession = %v", err)
	}
	c.ws.Close(4000, "")
	c2 := mustDial(t, g.ResumeURL(), "v=10")
	c2.mustRead(ctx)
	c2.mustSend(ctx, resumePayload("tok", r.SessionID, 1))
	if p := c2.mustRead(ctx); p.Op != opInvalidSession || string(p.D) != "false" {
		t.Fatalf("RESUME of a dropped session: %+v", p)
	}
}

func TestGatewayBadDispatch(t *testing.T) {
	leaktest.Check(t)
	g, _, _ := connected(t, &Gateway{}, "v=10")
	for _, tc := range []struct {
		event string
		data  any
	}{{"", nil}, {"X", json.RawMessage(`{"a":`)}, {"X", func() {}}} {
		if _, err := g.Dispatch(0, tc.event, tc.data); !errors.Is(err, ErrBadDispatch) {
			t.Errorf("Dispatch(%q, %v) = %v", tc.event, tc.data, err)
		}
	}
}

func TestGatewayShutdown(t *testing.T) {
	leaktest.Check(t)
	ctx := testCtx(t)
	g := startGateway(t, &Gateway{})
	c0 := mustDial(t, g.URL(), "v=10")
	c0.identify(ctx, 0, 1)
	c1 := mustDial(t, g.ResumeURL(), "v=10")
	c1.mustRead(ctx)
	done := make(chan error, 1)
	go func() { done <- g.Shutdown(ctx) }()
	for i, c := range []*testClient{c0, c1} {
		if code := c.closeCode(ctx); code != 1001 {
			t.Fatalf("client %d: close code %d, want 1001", i, code)
		}
	}
	if err := <-done; err != nil {
		t.Fatalf("Shutdown = %v", err)
	}
	if _, err := dialGateway(t, g.URL(), "v=10"); err == nil {
		t.Fatal("dial after Shutdown succeeded")
	}
}
