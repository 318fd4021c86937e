package jsonbench

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"testing"

	"github.com/bytedance/sonic"
	gojson "github.com/goccy/go-json"
	"github.com/ipcord/ipcord/discord"
	"github.com/ipcord/ipcord/gateway"
	"github.com/ipcord/ipcord/gateway/internal/corpus"
	"github.com/ipcord/ipcord/internal/cputime"
	jsoniter "github.com/json-iterator/go"
)

// Event types the corpus carries that package discord has no struct for.
type ready struct {
	SessionID string                     `json:"session_id"`
	User      discord.User               `json:"user"`
	Guilds    []discord.UnavailableGuild `json:"guilds"`
}

type membersChunk struct {
	GuildID    discord.Snowflake `json:"guild_id"`
	Members    []discord.Member  `json:"members"`
	ChunkIndex int               `json:"chunk_index"`
	ChunkCount int               `json:"chunk_count"`
}

type typingStart struct {
	ChannelID discord.Snowflake `json:"channel_id"`
	GuildID   discord.Snowflake `json:"guild_id"`
	UserID    discord.Snowflake `json:"user_id"`
	Timestamp int64             `json:"timestamp"`
	Member    *discord.Member   `json:"member"`
}

// target returns a new value of the type a dispatch decodes into.
func target(name string) any {
	switch name {
	case "READY":
		return new(ready)
	case "GUILD_CREATE":
		return new(discord.Guild)
	case "GUILD_MEMBERS_CHUNK":
		return new(membersChunk)
	case "MESSAGE_CREATE":
		return new(discord.Message)
	case "PRESENCE_UPDATE":
		return new(discord.Presence)
	case "TYPING_START":
		return new(typingStart)
	}
	return nil
}

type dispatch struct {
	name string
	data []byte
}

// dispatches runs the corpus through a gateway.Conn and keeps each
// dispatch's name and raw data.
func dispatches(tb testing.TB, c *corpus.Corpus) []dispatch {
	conn, err := gateway.New(gateway.Config{Token: "t"})
	if err != nil {
		tb.Fatal(err)
	}
	var out []dispatch
	_, err = corpus.Replay(conn, c.Stream(gateway.CompressNone), func(ev gateway.Event) error {
		switch e := ev.(type) {
		case *gateway.Dispatch:
			out = append(out, dispatch{e.Name, append([]byte(nil), e.Data...)})
		case *gateway.Ready:
			out = append(out, dispatch{"READY", append([]byte(nil), e.Dispatch.Data...)})
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	if len(out) < len(c.Msgs)/2 {
		tb.Fatalf("%d dispatches of %d messages", len(out), len(c.Msgs))
	}
	return out
}

var libs = []struct {
	name      string
	unmarshal func([]byte, any) error
}{
	{"encoding-json", json.Unmarshal},
	{"goccy-go-json", gojson.Unmarshal},
	{"jsoniter", jsoniter.ConfigCompatibleWithStandardLibrary.Unmarshal},
	{"sonic", sonic.ConfigStd.Unmarshal},
}

// BenchmarkTypedDecode decodes every dispatch of the corpus into its
// discord type. MB/s are of the whole plain stream, as for the gateway's
// receive benchmark; cpu-MB/s divide by the process's CPU time instead of
// the wall clock, which a shared machine makes noisy.
func BenchmarkTypedDecode(b *testing.B) {
	c := corpus.Generate()
	ds := dispatches(b, c)
	for _, lib := range libs {
		b.Run(lib.name, func(b *testing.B) {
			b.SetBytes(int64(c.Plain))
			b.ReportAllocs()
			start := cputime.Process()
			defer func() { reportCPU(b, c.Plain, cputime.Process()-start) }()
			for i := 0; i < b.N; i++ {
				for _, d := range ds {
					if err := lib.unmarshal(d.data, target(d.name)); err != nil {
						b.Fatalf("%s: %v", d.name, err)
					}
				}
			}
		})
	}
}

// BenchmarkPipeline is bytes in to typed structs out: zstd-stream frames
// through gateway.Conn, then each dispatch decoded into its discord type,
// with encoding/json and with Dispatch.Decode (goccy/go-json).
func BenchmarkPipeline(b *testing.B) {
	c := corpus.Generate()
	stream := c.Stream(gateway.CompressZstd)
	for _, lib := range []string{"encoding-json", "Dispatch.Decode"} {
		b.Run(lib, func(b *testing.B) {
			conn, err := gateway.New(gateway.Config{Token: "t", Compression: gateway.CompressZstd})
			if err != nil {
				b.Fatal(err)
			}
			decode := func(ev gateway.Event) error {
				var d *gateway.Dispatch
				switch e := ev.(type) {
				case *gateway.Dispatch:
					d = e
				case *gateway.Ready:
					d = &e.Dispatch
				default:
					return nil
				}
				if lib == "encoding-json" {
					return json.Unmarshal(d.Data, target(d.Name))
				}
				return d.Decode(target(d.Name))
			}
			b.SetBytes(int64(c.Plain))
			b.ReportAllocs()
			start := cputime.Process()
			defer func() { reportCPU(b, c.Plain, cputime.Process()-start) }()
			for i := 0; i < b.N; i++ {
				if _, err := corpus.Replay(conn, stream, decode); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestLibrariesAgree checks that every library decodes the dispatches of
// the recorded session (the corpus is too slow to build under -race) to
// the same values as encoding/json, so the benchmark compares equal work.
func TestLibrariesAgree(t *testing.T) {
	b, err := os.ReadFile("../testdata/session.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	ds := dispatches(t, &corpus.Corpus{Msgs: bytes.Split(bytes.TrimSpace(b), []byte("\n"))})
	checked := 0
	for _, lib := range libs[1:] {
		for i, d := range ds {
			if target(d.name) == nil {
				continue
			}
			checked++
			want, got := target(d.name), target(d.name)
			if err := json.Unmarshal(d.data, want); err != nil {
				t.Fatal(err)
			}
			if err := lib.unmarshal(d.data, got); err != nil {
				t.Fatalf("%s: %s: %v", lib.name, d.name, err)
			}
			wb, _ := json.Marshal(want)
			gb, _ := json.Marshal(got)
			if string(wb) != string(gb) {
				t.Fatalf("%s decodes %s #%d differently", lib.name, d.name, i)
			}
		}
	}
	if checked < 100 {
		t.Fatalf("only %d dispatches compared", checked)
	}
	if err := json.Unmarshal([]byte(`{"id":"x"}`), new(discord.Guild)); !errors.Is(err, discord.ErrBadSnowflake) {
		t.Fatalf("bad snowflake: %v", err)
	}
}
