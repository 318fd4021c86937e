package discordtest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/ipcord/ipcord/gateway"
	"github.com/ipcord/ipcord/internal/leaktest"
)

// Each protocol rule ends the connection with Discord's close code.
func TestGatewayCloseCodes(t *testing.T) {
	text := func(s string) func(context.Context, *testClient) error {
		return func(ctx context.Context, c *testClient) error {
			return c.ws.Write(ctx, websocket.MessageText, []byte(s))
		}
	}
	send := func(vs ...any) func(context.Context, *testClient) error {
		return func(ctx context.Context, c *testClient) error {
			for _, v := range vs {
				if err := c.send(ctx, v); err != nil {
					return err
				}
			}
			return nil
		}
	}
	ident := identifyPayload("tok", 0, 1, 513)
	cases := []struct {
		name  string
		cfg   *Gateway
		query string
		act   func(context.Context, *testClient) error
		want  int
	}{
		{"payload over 4096 bytes", &Gateway{}, "v=10", text(`{"op":1,"d":"` + strings.Repeat("x", 4090) + `"}`), closeDecodeError},
		{"message over the WebSocket limit", &Gateway{}, "v=10", text(strings.Repeat("x", 70000)), closeDecodeError},
		{"not JSON", &Gateway{}, "v=10", text(`{"op":1,`), closeDecodeError},
		{"op a string", &Gateway{}, "v=10", text(`{"op":"1"}`), closeDecodeError},
		{"no op", &Gateway{}, "v=10", text(`{"d":1}`), closeDecodeError},
		{"identify d wrong type", &Gateway{}, "v=10", text(`{"op":2,"d":"token"}`), closeDecodeError},
		{"identify shard wrong type", &Gateway{}, "v=10", text(`{"op":2,"d":{"token":"t","shard":"0"}}`), closeDecodeError},
		{"binary not JSON", &Gateway{}, "v=10", func(ctx context.Context, c *testClient) error {
			return c.ws.Write(ctx, websocket.MessageBinary, []byte{0x83, 0x01})
		}, closeDecodeError},
		{"presence before identify", &Gateway{}, "v=10", send(map[string]any{"op": 3, "d": map[string]any{}}), closeNotAuth},
		{"dispatch op before identify", &Gateway{}, "v=10", send(map[string]any{"op": 0}), closeNotAuth},
		{"bad token", &Gateway{Token: "secret"}, "v=10", send(ident), closeAuthFailed},
		{"empty token", &Gateway{}, "v=10", send(identifyPayload("", 0, 1, 0)), closeAuthFailed},
		{"bot prefix, wrong token", &Gateway{Token: "secret"}, "v=10", send(identifyPayload("Bot nope", 0, 1, 0)), closeAuthFailed},
		{"second identify", &Gateway{}, "v=10", send(ident, ident), closeAlreadyAuth},
		{"resume after identify", &Gateway{}, "v=10", send(ident, resumePayload("tok", "x", 1)), closeAlreadyAuth},
		{"shard id past count", &Gateway{}, "v=10", send(identifyPayload("tok", 2, 2, 0)), closeInvalidShard},
		{"shard of three numbers", &Gateway{}, "v=10", text(`{"op":2,"d":{"token":"t","shard":[0,1,2]}}`), closeInvalidShard},
		{"sharding required", &Gateway{Shards: 2}, "v=10", send(identifyPayload("tok", 0, 1, 0)), closeShardingNeeded},
		{"API version 8", &Gateway{}, "v=8", func(context.Context, *testClient) error { return nil }, closeInvalidVersion},
		{"unknown intent bit", &Gateway{}, "v=10", send(identifyPayload("tok", 0, 1, 1<<40)), closeInvalidIntents},
		{"privileged intent disallowed", &Gateway{DisallowedIntents: PrivilegedIntents}, "v=10", send(identifyPayload("tok", 0, 1, int64(gateway.IntentMessageContent))), closeDisallowIntents},
		{"unknown opcode after identify", &Gateway{}, "v=10", send(ident, map[string]any{"op": 5}), closeUnknownOpcode},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			leaktest.Check(t)
			ctx := testCtx(t)
			g := startGateway(t, tc.cfg)
			c := mustDial(t, g.URL(), tc.query)
			if err := tc.act(ctx, c); err != nil {
				t.Fatal(err)
			}
			if code := c.closeCode(ctx); code != tc.want {
				t.Fatalf("close code %d, want %d", code, tc.want)
			}
			ci, err := g.WaitConnection(ctx, func(ci ConnInfo) bool { return ci.ServerClose != 0 })
			if err != nil || ci.ServerClose != tc.want {
				t.Fatalf("recorded %+v, %v", ci, err)
			}
		})
	}
}

// Privileged intents are allowed unless configured otherwise.
func TestGatewayPrivilegedIntentsAllowedByDefault(t *testing.T) {
	leaktest.Check(t)
	ctx := testCtx(t)
	g := startGateway(t, &Gateway{})
	c := mustDial(t, g.URL(), "v=10")
	c.mustRead(ctx)
	c.mustSend(ctx, identifyPayload("tok", 0, 1, PrivilegedIntents|1))
	if p := c.mustRead(ctx); p.T != "READY" {
		t.Fatalf("got %+v", p)
	}
}

func TestGatewayRateLimit(t *testing.T) {
	leaktest.Check(t)
	ctx := testCtx(t)
	clock := newFakeClock()
	g := startGateway(t, &Gateway{Now: clock.Now})
	c := mustDial(t, g.URL(), "v=10")
	c.identify(ctx, 0, 1) // payload 1
	hb := map[string]any{"op": 1, "d": 1}
	for i := range 119 { // payloads 2..120, heartbeats count
		c.mustSend(ctx, hb)
		if p := c.mustRead(ctx); p.Op != opHeartbeatACK {
			t.Fatalf("heartbeat %d answered %+v", i, p)
		}
		if i == 0 {
			clock.Advance(30 * time.Second) // payloads 3.. come 30 s after 1 and 2
		}
	}
	// 60 s after the first two payloads, exactly two more are allowed.
	clock.Advance(30 * time.Second)
	for range 2 {
		c.mustSend(ctx, hb)
		if p := c.mustRead(ctx); p.Op != opHeartbeatACK {
			t.Fatalf("heartbeat after the window moved answered %+v", p)
		}
	}
	c.mustSend(ctx, hb)
	if code := c.closeCode(ctx); code != closeRateLimited {
		t.Fatalf("close code %d, want 4008", code)
	}
}

func TestGatewayIdentifyBuckets(t *testing.T) {
	leaktest.Check(t)
	ctx := testCtx(t)
	clock := newFakeClock()
	g := startGateway(t, &Gateway{Now: clock.Now, Shards: 4, MaxConcurrency: 2})
	identify := func(shard int) payload {
		c := mustDial(t, g.URL(), "v=10")
		c.mustRead(ctx)
		c.mustSend(ctx, identifyPayload("tok", shard, 4, 0))
		return c.mustRead(ctx)
	}
	if p := identify(0); p.T != "READY" {
		t.Fatalf("shard 0: %+v", p)
	}
	if p := identify(1); p.T != "READY" { // bucket 1 is independent
		t.Fatalf("shard 1: %+v", p)
	}
	clock.Advance(4999 * time.Millisecond)
	if p := identify(2); p.Op != opInvalidSession || string(p.D) != "false" { // bucket 0, 4.999 s later
		t.Fatalf("shard 2 inside 5 s: %+v", p)
	}
	clock.Advance(time.Millisecond)
	if p := identify(2); p.T != "READY" {
		t.Fatalf("shard 2 after 5 s: %+v", p)
	}
}

type countStarts struct{ left int }

func (c *countStarts) ConsumeSessionStart() bool {
	if c.left == 0 {
		return false
	}
	c.left--
	return true
}

func TestGatewaySessionStartLimit(t *testing.T) {
	leaktest.Check(t)
	ctx := testCtx(t)
	clock := newFakeClock()
	starts := &countStarts{left: 1}
	g := startGateway(t, &Gateway{Now: clock.Now, SessionStarts: starts})
	c1 := mustDial(t, g.URL(), "v=10")
	r := c1.identify(ctx, 0, 1)
	clock.Advance(time.Minute)
	c2 := mustDial(t, g.URL(), "v=10")
	c2.mustRead(ctx)
	c2.mustSend(ctx, identifyPayload("tok", 0, 1, 0))
	if p := c2.mustRead(ctx); p.Op != opInvalidSession || string(p.D) != "false" {
		t.Fatalf("identify past the limit: %+v", p)
	}
	// A RESUME takes no session start.
	c1.ws.Close(4000, "")
	c3 := mustDial(t, g.ResumeURL(), "v=10")
	c3.mustRead(ctx)
	c3.mustSend(ctx, resumePayload("tok", r.SessionID, 1))
	if p := c3.mustRead(ctx); p.T != "RESUMED" {
		t.Fatalf("resume: %+v", p)
	}
}
