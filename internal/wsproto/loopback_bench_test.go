package wsproto_test

// Comparative benchmarks over real TCP on 127.0.0.1: the same peer on the
// other end, our framing or coder/websocket's on this end. They measure the
// reasons this package exists: batching many frames into one write, and
// decoding straight out of one Read.

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/ipcord/ipcord/internal/wsproto"
)

// loopbackServer accepts WebSocket connections with our Server role.
// /sink reads and discards everything; /source?size=n sends binary
// messages of n bytes as fast as the connection takes them.
func loopbackServer(b *testing.B) string {
	var wg sync.WaitGroup
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key, err := wsproto.CheckRequest(r)
		if err != nil {
			b.Error(err)
			return
		}
		conn, _, err := wsproto.Accept(w, key, "", "")
		if err != nil {
			b.Error(err)
			return
		}
		wg.Add(1)
		defer wg.Done()
		defer conn.Close()
		if r.URL.Path == "/sink" {
			_, _ = io.Copy(io.Discard, conn)
			return
		}
		size, _ := strconv.Atoi(r.URL.Query().Get("size"))
		payload := bytes.Repeat([]byte("s"), size)
		var chunk []byte
		for len(chunk) < 256<<10 {
			chunk = wsproto.AppendFrame(chunk, wsproto.Server, wsproto.OpBinary, true, false, [4]byte{}, payload)
		}
		for {
			if _, err := conn.Write(chunk); err != nil {
				return
			}
		}
	}))
	b.Cleanup(func() { srv.Close(); wg.Wait() })
	return "ws" + strings.TrimPrefix(srv.URL, "http")
}

// dialLoopback connects our Client role to the loopback server.
func dialLoopback(b *testing.B, wsURL string) *peer {
	p, _, err := dialOurs(b, wsURL, nil, 1<<20)
	if err != nil {
		b.Fatal(err)
	}
	p.conn.SetDeadline(time.Time{})
	return p
}

// BenchmarkLoopbackWrite sends batches of 32 binary messages to a peer
// that discards them: wsproto appends the batch into one buffer and writes
// once, coder/websocket writes message by message.
func BenchmarkLoopbackWrite(b *testing.B) {
	const batch = 32
	for _, n := range []int{64, 1 << 10} {
		payload := bytes.Repeat([]byte("w"), n)
		b.Run("wsproto/"+strconv.Itoa(n), func(b *testing.B) {
			wsURL := loopbackServer(b)
			conn := dialLoopback(b, wsURL+"/sink").conn
			buf := make([]byte, 0, batch*(n+14))
			b.SetBytes(batch * int64(n))
			b.ReportAllocs()
			for b.Loop() {
				buf = buf[:0]
				for range batch {
					buf = wsproto.AppendFrame(buf, wsproto.Client, wsproto.OpBinary, true, false, wsproto.MaskKey(), payload)
				}
				if _, err := conn.Write(buf); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("coder/"+strconv.Itoa(n), func(b *testing.B) {
			wsURL := loopbackServer(b)
			ctx := context.Background()
			c, _, err := websocket.Dial(ctx, wsURL+"/sink", nil)
			if err != nil {
				b.Fatal(err)
			}
			defer c.CloseNow()
			b.SetBytes(batch * int64(n))
			b.ReportAllocs()
			for b.Loop() {
				for range batch {
					if err := c.Write(ctx, websocket.MessageBinary, payload); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}

// BenchmarkLoopbackRead receives binary messages from a peer sending as
// fast as it can: wsproto's Decoder fed by ReadFrom, against
// coder/websocket's Read.
func BenchmarkLoopbackRead(b *testing.B) {
	for _, n := range []int{64, 1 << 10, 64 << 10} {
		b.Run("wsproto/"+strconv.Itoa(n), func(b *testing.B) {
			wsURL := loopbackServer(b)
			p := dialLoopback(b, wsURL+"/source?size="+strconv.Itoa(n))
			b.SetBytes(int64(n))
			b.ReportAllocs()
			for b.Loop() {
				m, err := readMessage(&p.dec, p.conn)
				if err != nil || len(m.Payload) != n {
					b.Fatalf("payload %d, %v", len(m.Payload), err)
				}
			}
		})
		b.Run("coder/"+strconv.Itoa(n), func(b *testing.B) {
			wsURL := loopbackServer(b)
			ctx := context.Background()
			c, _, err := websocket.Dial(ctx, wsURL+"/source?size="+strconv.Itoa(n), nil)
			if err != nil {
				b.Fatal(err)
			}
			c.SetReadLimit(1 << 20)
			defer c.CloseNow()
			b.SetBytes(int64(n))
			b.ReportAllocs()
			for b.Loop() {
				_, data, err := c.Read(ctx)
				if err != nil || len(data) != n {
					b.Fatalf("read %d bytes, %v", len(data), err)
				}
			}
		})
	}
}
