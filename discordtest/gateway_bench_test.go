//go:build unix

package discordtest

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/ipcord/ipcord/internal/cputime"
)

// BenchmarkGatewayDispatch measures dispatches per second pushed through
// Gateway.Dispatch to one client over loopback: the fake's sequencing,
// replay buffer, compression and framing. The client is the raw wsproto
// one, which counts messages without decompressing them, so the figure is
// the fake's. Besides wall-clock rates it reports the process's CPU time
// per dispatch (fake and client together), which a loaded machine skews
// far less.
func BenchmarkGatewayDispatch(b *testing.B) {
	data := benchMessage()
	benchGateway(b, func(g *Gateway, n int) error {
		for range n {
			if _, err := g.Dispatch(0, "MESSAGE_CREATE", data); err != nil {
				return err
			}
		}
		return nil
	})
}

// BenchmarkGatewayFlood is BenchmarkGatewayDispatch through Gateway.Flood:
// the event encoded once, dispatched in chunks, written with writev.
func BenchmarkGatewayFlood(b *testing.B) {
	ev, err := NewEvent("MESSAGE_CREATE", benchMessage())
	if err != nil {
		b.Fatal(err)
	}
	benchGateway(b, func(g *Gateway, n int) error {
		_, err := g.Flood(context.Background(), 0, []*Event{ev}, n)
		return err
	})
}

// benchMessage is a ~660-byte MESSAGE_CREATE.
func benchMessage() json.RawMessage {
	return json.RawMessage(`{"id":"1234567890123456789","channel_id":"1234567890123456789",` +
		`"guild_id":"1234567890123456789","author":{"id":"1234567890123456789","username":"someone",` +
		`"global_name":"Someone","avatar":null,"bot":false},"content":"` + strings.Repeat("hello gateway ", 20) +
		`","timestamp":"2026-11-22T13:00:00.000000+00:00","tts":false,"mention_everyone":false,` +
		`"mentions":[],"mention_roles":[],"attachments":[],"embeds":[],"pinned":false,"type":0}`)
}

// benchGateway runs send(g, b.N) against one raw client per compression
// mode and reports the rates.
func benchGateway(b *testing.B, send func(g *Gateway, n int) error) {
	size := int64(len(benchMessage()))
	for _, comp := range []string{compressZlib, compressZstd, ""} {
		name := comp
		if name == "" {
			name = "plain"
		}
		b.Run(name, func(b *testing.B) {
			g := startGateway(b, &Gateway{})
			q := "v=10&encoding=json"
			if comp != "" {
				q += "&compress=" + comp
			}
			c := rawDial(b, g.URL(), q)
			c.nc.SetDeadline(time.Time{})
			c.next() // HELLO
			c.send(identifyPayload("tok", 0, 1, 0))
			c.next() // READY
			done := make(chan error, 1)
			go func() {
				for i := 0; i < b.N; {
					_, ok, err := c.dec.Next()
					if err != nil {
						done <- err
						return
					}
					if ok {
						i++
						continue
					}
					if _, err := c.dec.ReadFrom(c.nc); err != nil {
						done <- err
						return
					}
				}
				done <- nil
			}()
			b.ReportAllocs()
			b.SetBytes(size)
			b.ResetTimer()
			start, cpu0 := time.Now(), cputime.Process()
			if err := send(g, b.N); err != nil {
				b.Fatal(err)
			}
			if err := <-done; err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "dispatches/s")
			b.ReportMetric(float64((cputime.Process()-cpu0).Microseconds())/float64(b.N), "cpu-µs/dispatch")
		})
	}
}
