package demo_test

import (
	"strings"
	"testing"
	"time"

	"github.com/ipcord/ipcord/cmd/ipcord/internal/demo"
	"github.com/ipcord/ipcord/discordtest"
	"github.com/ipcord/ipcord/internal/leaktest"
	"github.com/ipcord/ipcord/ipc"
)

// TestDemoEndToEnd runs the whole demo with real shards against the fake:
// both shards come up, the cache fills from GUILD_CREATE, a message sent
// through send_message comes back as an event, !ping is answered, and an
// INTERACTION_CREATE on the gateway is answered through the callback route.
func TestDemoEndToEnd(t *testing.T) {
	leaktest.Check(t)
	ctx := testCtx(t)
	d := startDemo(t, demo.Config{Guilds: 4, Shards: 2, Traffic: 20, HeartbeatInterval: 200 * time.Millisecond})
	c, err := ipc.Dial(ctx, ipc.ClientConfig{URL: d.Info.IPCURL, Secret: d.Info.Secret, Identifier: "test"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	var st demo.Stats
	for {
		st, err = ipc.CallAs[demo.Stats](ctx, c, demo.RouteStats, nil)
		if err != nil {
			t.Fatal(err)
		}
		ready := 0
		for _, s := range st.Shards {
			if s.State == "READY" && s.LatencyMS > 0 {
				ready++
			}
		}
		if st.Guilds == 4 && ready == 2 && st.EventsPerSecond > 0 {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("demo never got live: %+v", st)
		case <-time.After(20 * time.Millisecond):
		}
	}
	if st.Shards[0].Guilds != 2 || st.Shards[1].Guilds != 2 {
		t.Errorf("guilds per shard %+v", st.Shards)
	}

	// A fault from the control API shows in the per-shard status: shard 1
	// is told to reconnect, resumes, and counts it.
	if code, body := do(t, "POST", d.Info.FakeURL+"/_fake/fault", "", `{"name":"reconnect","shard":1}`); code != 200 {
		t.Fatalf("fault: %d %s", code, body)
	}
	for {
		st, err = ipc.CallAs[demo.Stats](ctx, c, demo.RouteStats, nil)
		if err != nil {
			t.Fatal(err)
		}
		if sh := st.Shards[1]; sh.Reconnects == 1 && sh.State == "READY" {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("shard 1 never reconnected: %+v", st.Shards)
		case <-time.After(20 * time.Millisecond):
		}
	}
	if st.Shards[0].Reconnects != 0 {
		t.Errorf("shard 0 reconnected too: %+v", st.Shards)
	}

	ch := d.Info.SampleChannel
	if _, err := ipc.CallAs[demo.SentMessage](ctx, c, demo.RouteSendMessage, demo.SendMessageArgs{ChannelID: ch, Content: "round trip"}); err != nil {
		t.Fatal(err)
	}
	waitEvent(t, c, func(e demo.RecentEvent) bool {
		return e.Type == "MESSAGE_CREATE" && strings.HasSuffix(e.Summary, ": round trip")
	})

	gw := d.Fake().Gateway()
	g := d.Fake().Guilds()[1]
	if _, _, err := gw.DispatchGuild(g.ID, "MESSAGE_CREATE", map[string]any{
		"id": "99", "channel_id": sfmt(g.ChannelID), "guild_id": sfmt(g.ID), "content": "!ping",
		"author": map[string]any{"id": "42", "username": "you"},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Fake().REST().Wait(ctx, func(r discordtest.Request) bool {
		return strings.Contains(string(r.JSON), `"content":"pong! shard 1`)
	}); err != nil {
		t.Errorf("!ping on shard 1 not answered: %v", err)
	}

	if _, err := gw.Dispatch(0, "INTERACTION_CREATE", map[string]any{
		"id": "1300000000000000000", "application_id": "1000000000000000001", "type": 2, "token": "gwtok", "version": 1,
		"data": map[string]any{"id": "1", "name": "ping", "type": 1}, "user": map[string]any{"id": "42", "username": "you"},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Fake().REST().Wait(ctx, discordtest.Route("POST /interactions/1300000000000000000/gwtok/callback")); err != nil {
		t.Errorf("gateway interaction not answered: %v", err)
	}
}

// waitEvent polls the events route until match holds for one.
func waitEvent(t *testing.T, c ipc.Caller, match func(demo.RecentEvent) bool) {
	t.Helper()
	ctx := testCtx(t)
	for {
		evs, err := ipc.CallAs[[]demo.RecentEvent](ctx, c, demo.RouteEvents, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range evs {
			if match(e) {
				return
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("no matching event among %+v", evs)
		case <-time.After(20 * time.Millisecond):
		}
	}
}
