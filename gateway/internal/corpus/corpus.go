package corpus

import (
	"bytes"
	"compress/zlib"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strconv"

	"github.com/klauspost/compress/zstd"
)

// Corpus is the benchmark stream: 5,000 gateway messages shaped like a
// large bot's first minutes: 26 GUILD_CREATE of ~50 KB, one of ~6 MB, a
// burst of GUILD_MEMBERS_CHUNK, then MESSAGE_CREATE, PRESENCE_UPDATE and
// TYPING_START of ~1 KB. Keys are in Discord's order (t, s, op, d) except
// for 1% of messages with d first, which take the fallback path.
type Corpus struct {
	Msgs  [][]byte // plain JSON
	Zlib  [][]byte // one zlib stream, a sync flush per message
	Zstd  [][]byte // one zstd frame, a flush per message
	Plain int      // total plain bytes
}

type gen struct{ r *rand.Rand }

func (g gen) id() string { return strconv.FormatUint(g.r.Uint64N(1<<62), 10) }

func (g gen) text(n int) string {
	const letters = "abcdefghijklmnopqrstuvwxyz      ,.!?éü日本🎉\"\\"
	rs := []rune(letters)
	b := make([]rune, n)
	for i := range b {
		b[i] = rs[g.r.IntN(len(rs))]
	}
	return string(b)
}

func (g gen) user() map[string]any {
	return map[string]any{
		"id": g.id(), "username": g.text(8), "global_name": g.text(10), "discriminator": "0",
		"avatar": fmt.Sprintf("%032x", g.r.Uint64()), "bot": g.r.IntN(10) == 0, "public_flags": g.r.IntN(1 << 10),
	}
}

func (g gen) member() map[string]any {
	roles := make([]string, g.r.IntN(4))
	for i := range roles {
		roles[i] = g.id()
	}
	return map[string]any{
		"user": g.user(), "nick": nil, "roles": roles, "joined_at": "2024-05-01T12:00:00.000000+00:00",
		"deaf": false, "mute": false, "flags": 0, "pending": false,
	}
}

func (g gen) guild(members int) map[string]any {
	ms := make([]any, members)
	for i := range ms {
		ms[i] = g.member()
	}
	chans := make([]any, 20+members/50)
	for i := range chans {
		chans[i] = map[string]any{"id": g.id(), "name": g.text(12), "type": g.r.IntN(5), "position": i,
			"permission_overwrites": []any{map[string]any{"id": g.id(), "type": 0, "allow": "1024", "deny": "0"}}}
	}
	roles := make([]any, 10)
	for i := range roles {
		roles[i] = map[string]any{"id": g.id(), "name": g.text(8), "color": g.r.IntN(1 << 24), "permissions": "104324673", "position": i, "hoist": false, "managed": false, "mentionable": true}
	}
	return map[string]any{
		"id": g.id(), "name": g.text(16), "icon": nil, "owner_id": g.id(), "member_count": members,
		"large": members > 250, "joined_at": "2024-05-01T12:00:00.000000+00:00", "members": ms,
		"channels": chans, "roles": roles, "threads": []any{}, "presences": []any{}, "voice_states": []any{},
		"features": []string{"COMMUNITY", "NEWS"}, "emojis": []any{}, "stickers": []any{},
	}
}

func (g gen) message() map[string]any {
	return map[string]any{
		"id": g.id(), "channel_id": g.id(), "guild_id": g.id(), "author": g.user(), "member": g.member(),
		"content": g.text(100 + g.r.IntN(500)), "timestamp": "2024-05-01T12:00:00.000000+00:00",
		"edited_timestamp": nil, "tts": false, "mention_everyone": false, "mentions": []any{}, "mention_roles": []any{},
		"attachments": []any{}, "embeds": []any{}, "pinned": false, "type": 0, "flags": 0, "nonce": g.id(),
	}
}

func (g gen) presence() map[string]any {
	return map[string]any{
		"user": map[string]any{"id": g.id()}, "guild_id": g.id(), "status": "online",
		"activities":    []any{map[string]any{"name": g.text(20), "type": 0, "created_at": g.r.Int64N(1 << 41), "state": g.text(300)}},
		"client_status": map[string]any{"desktop": "online"},
	}
}

func (g gen) typing() map[string]any {
	return map[string]any{"channel_id": g.id(), "guild_id": g.id(), "user_id": g.id(), "timestamp": g.r.Int64N(1 << 31), "member": g.member()}
}

// Generate builds the corpus. It is deterministic: the same bytes on every
// run, so figures from different runs compare. It takes about a second.
func Generate() *Corpus {
	g := gen{rand.New(rand.NewPCG(26, 5000))}
	c := &Corpus{}
	seq := 0
	add := func(name string, d any) {
		seq++
		raw, err := json.Marshal(d)
		if err != nil {
			panic(err) // only maps of plain values: cannot fail
		}
		var m []byte
		if seq%100 == 50 {
			m = fmt.Appendf(nil, `{"d":%s,"op":0,"s":%d,"t":%q}`, raw, seq, name)
		} else {
			m = fmt.Appendf(nil, `{"t":%q,"s":%d,"op":0,"d":%s}`, name, seq, raw)
		}
		c.Msgs = append(c.Msgs, m)
	}
	c.Msgs = append(c.Msgs, []byte(`{"t":null,"s":null,"op":10,"d":{"heartbeat_interval":41250}}`))
	add("READY", map[string]any{"v": 10, "session_id": "s1", "resume_gateway_url": "wss://r.example", "user": g.user(), "guilds": []any{}})
	for i := 0; i < 26; i++ {
		add("GUILD_CREATE", g.guild(150))
	}
	add("GUILD_CREATE", g.guild(18000))
	for i := 0; i < 60; i++ {
		ms := make([]any, 25)
		for j := range ms {
			ms[j] = g.member()
		}
		add("GUILD_MEMBERS_CHUNK", map[string]any{"guild_id": g.id(), "members": ms, "chunk_index": i, "chunk_count": 60})
	}
	for len(c.Msgs) < 5000 {
		switch g.r.IntN(3) {
		case 0:
			add("MESSAGE_CREATE", g.message())
		case 1:
			add("PRESENCE_UPDATE", g.presence())
		default:
			add("TYPING_START", g.typing())
		}
	}
	for _, m := range c.Msgs {
		c.Plain += len(m)
	}

	var buf bytes.Buffer
	zw := zlib.NewWriter(&buf)
	for _, m := range c.Msgs {
		zw.Write(m)
		zw.Flush()
		c.Zlib = append(c.Zlib, bytes.Clone(buf.Bytes()))
		buf.Reset()
	}
	zs, _ := zstd.NewWriter(&buf, zstd.WithEncoderConcurrency(1))
	for _, m := range c.Msgs {
		zs.Write(m)
		zs.Flush()
		c.Zstd = append(c.Zstd, bytes.Clone(buf.Bytes()))
		buf.Reset()
	}
	return c
}
