package discordtest

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/ipcord/ipcord/internal/leaktest"
)

func member(id, name string) json.RawMessage {
	return json.RawMessage(`{"user":{"id":"` + id + `","username":"` + name + `"},"roles":[]}`)
}

func TestGatewayRequestGuildMembers(t *testing.T) {
	leaktest.Check(t)
	ctx := testCtx(t)
	clock := newFakeClock()
	const gid = 81384788765712384
	_, c, _ := connected(t, &Gateway{Now: clock.Now, Members: map[uint64][]json.RawMessage{
		gid: {member("1", "alice"), member("2", "albert"), member("3", "bob")},
	}}, "v=10")
	type chunk struct {
		GuildID    string            `json:"guild_id"`
		Members    []json.RawMessage `json:"members"`
		ChunkCount int               `json:"chunk_count"`
		Nonce      string            `json:"nonce"`
		NotFound   []string          `json:"not_found"`
	}
	request := func(d map[string]any) (payload, chunk) {
		t.Helper()
		d["guild_id"] = "81384788765712384"
		c.mustSend(ctx, map[string]any{"op": 8, "d": d})
		p := c.mustRead(ctx)
		var ch chunk
		json.Unmarshal(p.D, &ch)
		return p, ch
	}
	p, ch := request(map[string]any{"query": "", "limit": 0, "nonce": "all-1"})
	if p.T != "GUILD_MEMBERS_CHUNK" || len(ch.Members) != 3 || ch.Nonce != "all-1" || ch.ChunkCount != 1 {
		t.Fatalf("all members: %+v %s", p, p.D)
	}
	p, ch = request(map[string]any{"query": "al", "limit": 1, "nonce": "q"})
	if p.T != "GUILD_MEMBERS_CHUNK" || len(ch.Members) != 1 {
		t.Fatalf("query: %+v %s", p, p.D)
	}
	p, ch = request(map[string]any{"user_ids": []string{"3", "9"}})
	if len(ch.Members) != 1 || len(ch.NotFound) != 1 || ch.NotFound[0] != "9" {
		t.Fatalf("user_ids: %s", p.D)
	}
	clock.Advance(10 * time.Second)
	p, _ = request(map[string]any{"query": "", "limit": 0, "nonce": "all-2"})
	var rl struct {
		Opcode     int     `json:"opcode"`
		RetryAfter float64 `json:"retry_after"`
		Meta       struct {
			GuildID string `json:"guild_id"`
			Nonce   string `json:"nonce"`
		} `json:"meta"`
	}
	json.Unmarshal(p.D, &rl)
	if p.T != "RATE_LIMITED" || rl.Opcode != 8 || rl.RetryAfter != 20 || rl.Meta.Nonce != "all-2" || rl.Meta.GuildID != "81384788765712384" {
		t.Fatalf("second request for all members: %+v %s", p, p.D)
	}
	clock.Advance(20 * time.Second)
	if p, _ = request(map[string]any{"query": "", "limit": 0}); p.T != "GUILD_MEMBERS_CHUNK" {
		t.Fatalf("after 30 s: %+v", p)
	}
	// discord.py sends snowflakes as numbers, and Discord takes them.
	c.mustSend(ctx, map[string]any{"op": 8, "d": map[string]any{"guild_id": 81384788765712384, "query": "x", "limit": 1}})
	if p := c.readUntil(ctx, 0, "GUILD_MEMBERS_CHUNK"); !strings.Contains(string(p.D), `"guild_id":"81384788765712384"`) {
		t.Fatalf("guild_id as a number: %s", p.D)
	}
	c.mustSend(ctx, map[string]any{"op": 8, "d": map[string]any{"guild_id": true}})
	if code := c.closeCode(ctx); code != closeDecodeError {
		t.Fatalf("guild_id not a snowflake: close %d", code)
	}
}
