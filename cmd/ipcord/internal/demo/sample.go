package demo

import (
	"encoding/json"
	"fmt"
)

// SampleGuild is one guild the fake holds and sends as GUILD_CREATE.
type SampleGuild struct {
	ID          uint64
	Name        string
	MemberCount int
	ChannelID   uint64 // its one text channel, "general"
}

// sampleNames are cycled (with a number once they run out) to name guilds.
var sampleNames = []string{
	"ipcord lounge", "gophers", "test server", "pixel art club", "chess night",
	"rustaceans", "lo-fi beats", "speedrunners", "book club", "homelab",
}

// SampleGuilds returns n deterministic sample guilds whose ids spread over
// shards by Discord's formula (id >> 22) % shards: guild i lands on shard
// i % shards.
func SampleGuilds(n int) []SampleGuild {
	gs := make([]SampleGuild, n)
	for i := range gs {
		name := sampleNames[i%len(sampleNames)]
		if i >= len(sampleNames) {
			name = fmt.Sprintf("%s %d", name, i/len(sampleNames)+1)
		}
		id := uint64(1<<20+i)<<22 | 1
		gs[i] = SampleGuild{ID: id, Name: name, MemberCount: 3 + (i*7919)%5000, ChannelID: id + 1}
	}
	return gs
}

// JSON returns the guild as the gateway sends it in GUILD_CREATE.
func (g SampleGuild) JSON() json.RawMessage {
	members := []any{}
	for _, u := range sampleUsers {
		members = append(members, map[string]any{"user": map[string]any{"id": fmt.Sprint(u.ID), "username": u.Name}})
	}
	b, _ := json.Marshal(map[string]any{
		"id": fmt.Sprint(g.ID), "name": g.Name, "member_count": g.MemberCount, "members": members,
		"channels": []any{map[string]any{"id": fmt.Sprint(g.ChannelID), "type": 0, "name": "general", "position": 0}},
	})
	return b
}

// sampleUsers write the fake's background traffic.
var sampleUsers = []struct {
	ID   uint64
	Name string
}{{4001 << 22, "ada"}, {4002 << 22, "grace"}, {4003 << 22, "ken"}, {4004 << 22, "rob"}, {4005 << 22, "barbara"}}

var sampleLines = []string{
	"hello there", "anyone up for a game?", "the build is green", "brb", "nice",
	"has anyone tried the new release?", "gg", "what's the stats route say?", "lol", "good morning",
}
