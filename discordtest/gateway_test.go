package discordtest

import (
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"github.com/ipcord/ipcord/internal/leaktest"
)

// guildOnShard returns a guild id that the sharding formula puts on shard.
func guildOnShard(n uint64, shard, num int) uint64 {
	return (n*uint64(num) + uint64(shard)) << 22
}

func guildJSON(id uint64, name string) json.RawMessage {
	return json.RawMessage(`{"id":"` + strconv.FormatUint(id, 10) + `","name":"` + name + `"}`)
}

func TestGatewayHelloIdentifyReady(t *testing.T) {
	leaktest.Check(t)
	ctx := testCtx(t)
	gid := guildOnShard(7, 0, 1)
	g := startGateway(t, &Gateway{
		HeartbeatInterval: 1234 * time.Millisecond,
		Guilds:            []json.RawMessage{guildJSON(gid, "one"), guildJSON(guildOnShard(8, 0, 1), "two")},
	})
	c := mustDial(t, g.URL(), "v=10&encoding=json")

	hello := c.mustRead(ctx)
	var hd struct {
		HeartbeatInterval int `json:"heartbeat_interval"`
	}
	if err := json.Unmarshal(hello.D, &hd); err != nil || hello.Op != opHello || hd.HeartbeatInterval != 1234 {
		t.Fatalf("HELLO = %+v (%s), %v", hello, hello.D, err)
	}
	c.mustSend(ctx, identifyPayload("tok", 0, 1, 513))
	ready := c.mustRead(ctx)
	if ready.T != "READY" || ready.S == nil || *ready.S != 1 {
		t.Fatalf("READY = %+v", ready)
	}
	var r readyInfo
	if err := json.Unmarshal(ready.D, &r); err != nil {
		t.Fatal(err)
	}
	if r.V != 10 || r.SessionID == "" || r.ResumeGatewayURL != g.ResumeURL() || r.ResumeGatewayURL == g.URL() || r.Shard != [2]int{0, 1} {
		t.Fatalf("READY d = %+v", r)
	}
	if len(r.Guilds) != 2 || !r.Guilds[0].Unavailable || r.Guilds[0].ID != strconv.FormatUint(gid, 10) {
		t.Fatalf("READY guilds = %+v", r.Guilds)
	}
	for i, name := range []string{"one", "two"} {
		p := c.mustRead(ctx)
		var gd struct{ Name string }
		json.Unmarshal(p.D, &gd)
		if p.T != "GUILD_CREATE" || *p.S != int64(i+2) || gd.Name != name {
			t.Fatalf("after READY got %+v %s", p, p.D)
		}
	}
	c.mustSend(ctx, map[string]any{"op": 1, "d": 3})
	if p := c.mustRead(ctx); p.Op != opHeartbeatACK {
		t.Fatalf("heartbeat answered with %+v", p)
	}
	seq, err := g.Dispatch(0, "MESSAGE_CREATE", map[string]string{"content": "hi"})
	if err != nil || seq != 4 {
		t.Fatalf("Dispatch = %d, %v", seq, err)
	}
	if p := c.mustRead(ctx); p.T != "MESSAGE_CREATE" || *p.S != 4 || string(p.D) != `{"content":"hi"}` {
		t.Fatalf("dispatch = %+v %s", p, p.D)
	}
	got := g.Received()
	if len(got) != 2 || got[0].Op != opIdentify || got[0].Shard != 0 || got[0].Conn != 1 || got[0].Listener != MainListener || got[1].Op != opHeartbeat || string(got[1].Data) != "3" {
		t.Fatalf("Received = %+v", got)
	}
	for op, want := range map[int]int{opIdentify: 1, opHeartbeat: 1, opResume: 0} {
		if n := g.CountReceived(func(r Received) bool { return r.Op == op }); n != want {
			t.Errorf("CountReceived(op %d) = %d, want %d", op, n, want)
		}
	}
	si, ok := g.Session(0)
	if !ok || si.ID != r.SessionID || si.Seq != 4 || si.Conn != 1 {
		t.Fatalf("Session = %+v, %v", si, ok)
	}
}

func TestGatewayCompressedStreams(t *testing.T) {
	for _, comp := range []string{compressZlib, compressZstd} {
		t.Run(comp, func(t *testing.T) {
			leaktest.Check(t)
			ctx := testCtx(t)
			g := startGateway(t, &Gateway{Guilds: []json.RawMessage{guildJSON(guildOnShard(1, 0, 1), "g")}})
			c := mustDial(t, g.URL(), "v=10&encoding=json&compress="+comp)
			c.identify(ctx, 0, 1)
			c.readUntil(ctx, 0, "GUILD_CREATE")
			for i := range 50 {
				if _, err := g.Dispatch(0, "TYPING_START", map[string]int{"i": i}); err != nil {
					t.Fatal(err)
				}
			}
			for i := range 50 {
				p := c.mustRead(ctx)
				if p.T != "TYPING_START" || *p.S != int64(i+3) || string(p.D) != `{"i":`+strconv.Itoa(i)+`}` {
					t.Fatalf("dispatch %d = %+v %s", i, p, p.D)
				}
			}
			// Every payload arrived in its own binary message (the zlib
			// suffix is checked by msgStream as each one is read).
			if c.in.msgs < 53 {
				t.Fatalf("read %d binary messages for 53 payloads", c.in.msgs)
			}
			if ci := g.Connections(); ci[0].Compress != comp {
				t.Fatalf("Connections = %+v", ci)
			}
		})
	}
}

// discordgo sends ?v=9 and IDENTIFY with "compress": true; the answer is
// plain text frames.
func TestGatewayIdentifyCompressTrueV9(t *testing.T) {
	leaktest.Check(t)
	ctx := testCtx(t)
	g := startGateway(t, &Gateway{})
	c := mustDial(t, g.URL(), "v=9&encoding=json")
	c.mustRead(ctx)
	id := identifyPayload("tok", 0, 1, 0)
	id["d"].(map[string]any)["compress"] = true
	id["d"].(map[string]any)["large_threshold"] = 250
	c.mustSend(ctx, id)
	p := c.mustRead(ctx) // read fails unless the frame is text
	var r readyInfo
	json.Unmarshal(p.D, &r)
	if p.T != "READY" || r.V != 9 {
		t.Fatalf("READY = %+v %+v", p, r)
	}
}

func TestGatewayResumeReplaysOnResumeURL(t *testing.T) {
	leaktest.Check(t)
	ctx := testCtx(t)
	g := startGateway(t, &Gateway{})
	c1 := mustDial(t, g.URL(), "v=10&encoding=json&compress=zlib-stream")
	r := c1.identify(ctx, 0, 1)
	for i := range 3 {
		g.Dispatch(0, "E", i)
	}
	var last int64
	for range 3 {
		last = *c1.mustRead(ctx).S
	}
	if last != 4 {
		t.Fatalf("last seq %d, want 4", last)
	}
	// A close code other than 1000/1001 keeps the session.
	c1.ws.Close(4000, "resume me")
	if _, err := g.WaitConnection(ctx, func(ci ConnInfo) bool { return ci.Num == 1 && ci.ClientClose == 4000 }); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if seq, err := g.Dispatch(0, "MISSED", i); err != nil || seq != int64(5+i) {
			t.Fatalf("Dispatch while disconnected = %d, %v", seq, err)
		}
	}
	// Resume from 3, as if seq 4 had been lost with the connection.
	c2 := mustDial(t, r.ResumeGatewayURL, "v=10&encoding=json&compress=zlib-stream")
	if p := c2.mustRead(ctx); p.Op != opHello {
		t.Fatalf("want HELLO, got %+v", p)
	}
	c2.mustSend(ctx, resumePayload("tok", r.SessionID, 3))
	for _, want := range []struct {
		seq int64
		t   string
	}{{4, "E"}, {5, "MISSED"}, {6, "MISSED"}, {7, "RESUMED"}} {
		p := c2.mustRead(ctx)
		if p.Op != 0 || p.S == nil || *p.S != want.seq || p.T != want.t {
			t.Fatalf("after RESUME got %+v, want seq %d %s", p, want.seq, want.t)
		}
	}
	if seq, _ := g.Dispatch(0, "LIVE", nil); seq != 8 {
		t.Fatalf("next seq %d, want 8", seq)
	}
	if p := c2.mustRead(ctx); *p.S != 8 || p.T != "LIVE" {
		t.Fatalf("live after resume = %+v", p)
	}
	rec, err := g.WaitReceived(ctx, func(r Received) bool { return r.Op == opResume })
	if err != nil || rec.Listener != ResumeListener || rec.Conn != 2 || rec.Shard != 0 {
		t.Fatalf("RESUME record = %+v, %v", rec, err)
	}
	if si, _ := g.Session(0); si.Conn != 2 || si.Listener != ResumeListener || si.ID != r.SessionID {
		t.Fatalf("Session = %+v", si)
	}
}

func TestGatewayResumeRefused(t *testing.T) {
	cases := []struct {
		name string
		// prepare ends c1's session or not and returns the RESUME to send.
		prepare   func(t *testing.T, g *Gateway, c1 *testClient, r readyInfo) map[string]any
		wantClose int // 0: want INVALID_SESSION d:false instead
	}{
		{"unknown session", func(t *testing.T, g *Gateway, c1 *testClient, r readyInfo) map[string]any {
			return resumePayload("tok", "no-such-session", 1)
		}, 0},
		{"client closed 1000", func(t *testing.T, g *Gateway, c1 *testClient, r readyInfo) map[string]any {
			c1.ws.Close(1000, "bye")
			return resumePayload("tok", r.SessionID, 1)
		}, 0},
		{"client closed 1001", func(t *testing.T, g *Gateway, c1 *testClient, r readyInfo) map[string]any {
			c1.ws.Close(1001, "going away")
			return resumePayload("tok", r.SessionID, 1)
		}, 0},
		{"op 9 false sent", func(t *testing.T, g *Gateway, c1 *testClient, r readyInfo) map[string]any {
			if err := g.SendInvalidSession(0, false); err != nil {
				t.Fatal(err)
			}
			return resumePayload("tok", r.SessionID, 1)
		}, 0},
		{"seq ahead of session", func(t *testing.T, g *Gateway, c1 *testClient, r readyInfo) map[string]any {
			return resumePayload("tok", r.SessionID, 99)
		}, closeInvalidSeq},
		{"bad token", func(t *testing.T, g *Gateway, c1 *testClient, r readyInfo) map[string]any {
			return resumePayload("wrong", r.SessionID, 1)
		}, closeAuthFailed},
		{"replay buffer exceeded", func(t *testing.T, g *Gateway, c1 *testClient, r readyInfo) map[string]any {
			for range 5 {
				g.Dispatch(0, "E", nil)
			}
			return resumePayload("tok", r.SessionID, 1) // seq 2 is gone (limit 3)
		}, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			leaktest.Check(t)
			ctx := testCtx(t)
			g := startGateway(t, &Gateway{Token: "tok", ReplayLimit: 3})
			c1 := mustDial(t, g.URL(), "v=10")
			r := c1.identify(ctx, 0, 1)
			resume := tc.prepare(t, g, c1, r)
			c2 := mustDial(t, g.ResumeURL(), "v=10")
			c2.mustRead(ctx)
			c2.mustSend(ctx, resume)
			if tc.wantClose != 0 {
				if code := c2.closeCode(ctx); code != tc.wantClose {
					t.Fatalf("close code %d, want %d", code, tc.wantClose)
				}
			} else {
				p := c2.mustRead(ctx)
				if p.Op != opInvalidSession || string(p.D) != "false" {
					t.Fatalf("got %+v %s, want INVALID_SESSION false", p, p.D)
				}
			}
			if tc.wantClose == closeInvalidSeq {
				if _, ok := g.Session(0); ok {
					t.Fatal("session kept after 4007")
				}
			}
		})
	}
}
