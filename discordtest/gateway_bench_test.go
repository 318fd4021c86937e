package discordtest

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// BenchmarkGatewayDispatch measures dispatches per second pushed through
// Gateway.Dispatch to one client over loopback: the fake's sequencing,
// replay buffer, compression and framing, and the client's reads (counted,
// not decoded).
func BenchmarkGatewayDispatch(b *testing.B) {
	data := json.RawMessage(`{"id":"1234567890123456789","channel_id":"1234567890123456789",` +
		`"guild_id":"1234567890123456789","author":{"id":"1234567890123456789","username":"someone",` +
		`"global_name":"Someone","avatar":null,"bot":false},"content":"` + strings.Repeat("hello gateway ", 20) +
		`","timestamp":"2026-11-22T13:00:00.000000+00:00","tts":false,"mention_everyone":false,` +
		`"mentions":[],"mention_roles":[],"attachments":[],"embeds":[],"pinned":false,"type":0}`)
	for _, comp := range []string{compressZlib, compressZstd, ""} {
		name := comp
		if name == "" {
			name = "plain"
		}
		b.Run(name, func(b *testing.B) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			g := startGateway(b, &Gateway{})
			q := "v=10&encoding=json"
			if comp != "" {
				q += "&compress=" + comp
			}
			c := mustDial(b, g.URL(), q)
			c.identify(ctx, 0, 1)
			done := make(chan error, 1)
			go func() {
				for i := 0; i < b.N; i++ {
					if _, _, err := c.ws.Read(ctx); err != nil {
						done <- err
						return
					}
				}
				done <- nil
			}()
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			b.ResetTimer()
			start := time.Now()
			for i := 0; i < b.N; i++ {
				if _, err := g.Dispatch(0, "MESSAGE_CREATE", data); err != nil {
					b.Fatal(err)
				}
			}
			if err := <-done; err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "dispatches/s")
		})
	}
}
