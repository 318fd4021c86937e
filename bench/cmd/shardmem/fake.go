package main

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/ipcord/ipcord/discordtest"
)

// fake is the gateway the shards connect to, in the parent process (its
// memory is not measured), and the Get Gateway endpoint discordgo asks.
type fake struct {
	g   *discordtest.Gateway
	srv *http.Server
	url string
	api string
}

func startFake(n int) (*fake, error) {
	g := &discordtest.Gateway{
		HeartbeatInterval: 41250 * time.Millisecond,
		Shards:            n, MaxConcurrency: n, // an identify bucket per shard
		Guilds:      guilds(n),
		MaxRecorded: 1000,
	}
	if err := g.Start(); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		g.Close()
		return nil, err
	}
	url := g.URL()
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]any{"url": url, "shards": n})
	})}
	go srv.Serve(ln)
	return &fake{g: g, srv: srv, url: url, api: "http://" + ln.Addr().String() + "/"}, nil
}

func (f *fake) close() {
	f.srv.Close()
	f.g.Close()
}

// guilds returns one sample guild for each of n shards (guild_id >> 22 is
// the shard), each about 40 KB of JSON: 150 channels and 50 roles.
func guilds(n int) []json.RawMessage {
	out := make([]json.RawMessage, n)
	for i := range n {
		id := uint64(n+i) << 22
		var b strings.Builder
		fmt.Fprintf(&b, `{"id":"%d","name":"guild %d","owner_id":"1","member_count":100,"channels":[`, id, i)
		for c := range 150 {
			if c > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"id":"%d","type":0,"guild_id":"%d","name":"channel-%d-%d","position":%d,"topic":"the topic of channel %d of guild %d","nsfw":false,"rate_limit_per_user":0,"parent_id":null}`,
				id+uint64(c)+1, id, i, c, c, c, i)
		}
		b.WriteString(`],"roles":[`)
		for r := range 50 {
			if r > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"id":"%d","name":"role %d","color":%d,"hoist":false,"position":%d,"permissions":"%d","managed":false,"mentionable":true}`,
				id+uint64(r)+1000, r, r*4099, r, 1<<uint(r%40))
		}
		b.WriteString(`],"members":[],"voice_states":[],"presences":[],"emojis":[],"stickers":[],"threads":[]}`)
		out[i] = json.RawMessage(b.String())
	}
	return out
}
