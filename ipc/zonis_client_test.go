package ipc_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ipcord/ipcord/internal/leaktest"
	"github.com/ipcord/ipcord/internal/wsproto"
	"github.com/ipcord/ipcord/ipc"
)

func TestZonisBotGoToGo(t *testing.T) {
	leaktest.Check(t)
	srv, u, _ := dialectServer(t, func(s *ipc.Server) { s.ZonisOverrideKey = "over" })
	bot := func(name string) *ipc.Router {
		r := ipc.NewRouter()
		r.HandleFunc("stats", func(ctx context.Context, req *ipc.Request) (any, error) {
			// The server can be called back from a handler.
			var hi string
			if err := req.Caller.Call(ctx, "hello", nil, &hi); err != nil {
				return nil, err
			}
			return map[string]string{"bot": name, "peer": req.Peer, "hello": hi}, nil
		})
		return r
	}
	ctx := ctxTimeout(t, 10*time.Second)
	c := dial(t, ipc.ClientConfig{URL: u, Dialect: ipc.Zonis, Router: bot("one"), PingInterval: 20 * time.Millisecond})
	id := c.Identifier()
	if !strings.HasPrefix(id, "ipcord-") {
		t.Fatalf("default identifier %q", id)
	}
	waitFor(t, 5*time.Second, "the bot to register", func() bool { return len(srv.Clients()) == 1 })

	var out map[string]string
	if err := srv.Call(ctx, id, "stats", nil, &out); err != nil || out["bot"] != "one" || out["peer"] != "SERVER" || out["hello"] != "hi" {
		t.Fatalf("server → bot: %v %v", out, err)
	}
	if err := srv.Call(ctx, id, "nope", nil, nil); !errors.Is(err, ipc.ErrUnknownRoute) {
		t.Fatalf("unknown route on the bot: %v", err)
	}
	if res := srv.Broadcast(ctx, "stats", nil); len(res) != 1 || res[0].Client != id || res[0].Err != nil {
		t.Fatalf("broadcast: %+v", res)
	}
	// bot → server
	if got, err := ipc.CallAs[map[string]int](ctx, c, "echo", map[string]int{"a": 1}); err != nil || got["a"] != 1 {
		t.Fatalf("bot → server: %v %v", got, err)
	}
	for route, want := range map[string]error{"nope": ipc.ErrUnknownRoute, "fail": ipc.ErrHandler, "unencodable": ipc.ErrEncode} {
		if err := c.Call(ctx, route, nil, nil); !errors.Is(err, want) {
			t.Errorf("%s: %v, want %v", route, err, want)
		}
	}
	if err := c.Call(ctx, "coded", nil, nil); !errors.Is(err, &ipc.Error{Code: "guild_not_found"}) {
		t.Errorf("coded: %v", err)
	}

	// A duplicate and a wrong secret are refused and evict nobody.
	if _, err := ipc.Dial(ctx, ipc.ClientConfig{URL: u, Dialect: ipc.Zonis, Secret: secret, Identifier: id}); !errors.Is(err, ipc.ErrDuplicateIdentifier) {
		t.Fatalf("duplicate: %v", err)
	}
	if _, err := ipc.Dial(ctx, ipc.ClientConfig{URL: u, Dialect: ipc.Zonis, Secret: "wrong", Identifier: id, ZonisOverrideKey: "over"}); !errors.Is(err, ipc.ErrUnauthorized) {
		t.Fatalf("wrong secret: %v", err)
	}
	if err := srv.Call(ctx, id, "stats", nil, &out); err != nil || out["bot"] != "one" {
		t.Fatalf("holder evicted: %v %v", out, err)
	}

	// The override key takes the identifier over; the old bot stops.
	c2 := dial(t, ipc.ClientConfig{URL: u, Dialect: ipc.Zonis, Router: bot("two"), Identifier: id, ZonisOverrideKey: "over"})
	_ = c2
	waitFor(t, 5*time.Second, "the old bot to be replaced", func() bool {
		return errors.Is(c.Call(ctx, "hello", nil, nil), ipc.ErrDuplicateIdentifier)
	})
	if err := srv.Call(ctx, id, "stats", nil, &out); err != nil || out["bot"] != "two" {
		t.Fatalf("after override: %v %v", out, err)
	}
}

// TestZonisClientGoldenFrames plays a Python Zonis server to our bot: the
// frames it sends must be Zonis's, packet ids aside.
func TestZonisClientGoldenFrames(t *testing.T) {
	leaktest.Check(t)
	ps := startPyServer(t)
	r := ipc.NewRouter()
	r.HandleFunc("stats", func(ctx context.Context, req *ipc.Request) (any, error) {
		return map[string]int{"guilds": 3}, nil
	})
	v := vars{}
	expect := func(pc *pyConn, want string) {
		t.Helper()
		m, err := pc.next()
		if err != nil || m.Op != wsproto.OpText {
			t.Fatalf("want %s, got %v %v", want, m.Op, err)
		}
		if !v.match(decodeAny(t, 0, want), decodeAny(t, 0, string(m.Payload))) {
			t.Fatalf("bot sent\n %s\nwant\n %s", m.Payload, want)
		}
	}
	dialed := make(chan *ipc.Client, 1)
	go func() {
		c, err := ipc.Dial(ctxTimeout(t, 5*time.Second), ipc.ClientConfig{URL: ps.url, Secret: secret, Identifier: "bot", Dialect: ipc.Zonis, Router: r})
		if err != nil {
			t.Error(err)
		}
		dialed <- c
	}()
	pc := ps.accept()
	expect(pc, `{"packet_id": "$id", "type": "request", "data": {"identifier": "bot", "type": "IDENTIFY", "data": {"secret_key": "s3cret", "override_key": null}}}`)
	pc.send(v.expand(`{"packet_id": "$id", "type": "response", "data": {"identifier": "bot", "type": "IDENTIFY", "data": null}}`))
	c := <-dialed
	if c == nil {
		t.FailNow()
	}
	defer c.Close()
	if len(v["id"].(string)) != 32 {
		t.Fatalf("packet_id %q is not 32 hex digits", v["id"])
	}

	// The server calls the bot.
	pc.send(`{"packet_id": "a1", "type": "request", "data": {"identifier": "bot", "type": "REQUEST", "data": {"route": "stats", "arguments": {}}}}`)
	expect(pc, `{"packet_id": "a1", "type": "response", "data": {"identifier": "bot", "type": "SUCCESS_RESPONSE", "data": {"guilds": 3}}}`)
	pc.send(`{"packet_id": "a2", "type": "request", "data": {"identifier": "bot", "type": "REQUEST", "data": {"route": "nope", "arguments": {}}}}`)
	expect(pc, `{"packet_id": "a2", "type": "response", "data": {"identifier": "bot", "type": "FAILURE_RESPONSE", "data": "nope is not a valid route name."}}`)

	// The bot calls the server, twice at once; the replies come back in
	// the other order.
	type res struct {
		out map[string]int
		err error
	}
	results := make(chan res, 2)
	for i := range 2 {
		go func() {
			out, err := ipc.CallAs[map[string]int](ctxTimeout(t, 5*time.Second), c, "guild", map[string]int{"i": i})
			results <- res{out, err}
		}()
	}
	var ids [2]string
	for range 2 {
		m, err := pc.next()
		if err != nil {
			t.Fatal(err)
		}
		var f struct {
			PacketID string `json:"packet_id"`
			Data     struct {
				Identifier, Type string
				Data             struct {
					Route     string
					Arguments struct{ I int }
				}
			}
		}
		json.Unmarshal(m.Payload, &f)
		if f.Data.Type != "CLIENT_REQUEST" || f.Data.Identifier != "bot" || f.Data.Data.Route != "guild" {
			t.Fatalf("bot's call: %s", m.Payload)
		}
		ids[f.Data.Data.Arguments.I] = f.PacketID
	}
	pc.send(`{"packet_id": "` + ids[1] + `", "type": "response", "data": {"identifier": "SERVER", "type": "SUCCESS_RESPONSE", "data": {"i": 1}}}`)
	pc.send(`{"packet_id": "` + ids[0] + `", "type": "response", "data": {"identifier": "SERVER", "type": "FAILURE_RESPONSE", "data": "Traceback (most recent call last): KeyError"}}`)
	got := map[int]bool{}
	for range 2 {
		r := <-results
		switch {
		case r.err == nil && r.out["i"] == 1:
			got[1] = true
		case errors.Is(r.err, ipc.ErrHandler):
			got[0] = true
		default:
			t.Fatalf("unexpected result %v %v", r.out, r.err)
		}
	}
	if !got[0] || !got[1] {
		t.Fatalf("results %v", got)
	}
}

func TestZonisClientRefusals(t *testing.T) {
	for code, want := range map[int]error{4100: ipc.ErrUnauthorized, 4101: ipc.ErrZonisIdentify, 4102: ipc.ErrDuplicateIdentifier} {
		t.Run(fmt.Sprint(code), func(t *testing.T) {
			leaktest.Check(t)
			ps := startPyServer(t)
			go func() {
				pc := <-ps.conns
				pc.next()
				pc.closeWith(code)
				pc.next()
			}()
			_, err := ipc.Dial(ctxTimeout(t, 5*time.Second), ipc.ClientConfig{URL: ps.url, Secret: secret, Dialect: ipc.Zonis})
			if !errors.Is(err, want) {
				t.Fatalf("close %d: Dial returned %v, want %v", code, err, want)
			}
		})
	}
}
