package ipc_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"testing"

	"github.com/ipcord/ipcord/ipc"
)

// member is a plausible element of a large reply: a guild's member list.
type member struct {
	ID       string   `json:"id"`
	Username string   `json:"username"`
	Nick     string   `json:"nick,omitempty"`
	Roles    []string `json:"roles"`
	JoinedAt string   `json:"joined_at"`
}

// membersReply returns about size bytes of JSON once encoded.
func membersReply(size int) []member {
	var out []member
	n := 0
	for i := 0; n < size; i++ {
		m := member{
			ID:       fmt.Sprintf("%d", 175928847299117063+i*7919),
			Username: fmt.Sprintf("user%d", i),
			Roles:    []string{"41771983423143936", fmt.Sprintf("%d", 41771983423143937+i%13)},
			JoinedAt: fmt.Sprintf("2024-%02d-%02dT12:%02d:00.000000+00:00", 1+i%12, 1+i%28, i%60),
		}
		if i%3 == 0 {
			m.Nick = fmt.Sprintf("nick %d", i)
		}
		b, _ := json.Marshal(m)
		n += len(b) + 1
		out = append(out, m)
	}
	return out
}

// BenchmarkCall256K is one call at a time whose reply is 256 KiB of JSON,
// with and without permessage-deflate; wire-B/op is what the server wrote.
func BenchmarkCall256K(b *testing.B) {
	for _, on := range []bool{false, true} {
		name := "plain"
		if on {
			name = "deflate"
		}
		b.Run(name, func(b *testing.B) {
			reply := membersReply(256 << 10)
			raw, _ := json.Marshal(reply)
			r := ipc.NewRouter()
			r.HandleFunc("members", func(ctx context.Context, req *ipc.Request) (any, error) {
				return json.RawMessage(raw), nil // the route's encoding is not what is measured
			})
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			cl := &watchListener{Listener: ln}
			srv := &ipc.Server{Router: r, Secret: "b", Compression: ipc.Compression{Enabled: on}}
			go srv.Serve(cl)
			b.Cleanup(func() { srv.Shutdown(context.Background()) })
			c, err := ipc.Dial(context.Background(), ipc.ClientConfig{URL: "ws://" + ln.Addr().String(), Secret: "b", Compression: ipc.Compression{Enabled: on}})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { c.Close() })
			ctx := context.Background()
			var out json.RawMessage
			b.SetBytes(int64(len(raw)))
			b.ReportAllocs()
			start := cl.written.Load()
			b.ResetTimer()
			for b.Loop() {
				if err := c.Call(ctx, "members", nil, &out); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(cl.written.Load()-start)/float64(b.N), "wire-B/op")
		})
	}
}
