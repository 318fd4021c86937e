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
	si, ok := g.Session(0)
	if !ok || si.ID != r.SessionID || si.Seq != 4 || si.Conn != 1 {
		t.Fatalf("Session = %+v, %v", si, ok)
	}
}
