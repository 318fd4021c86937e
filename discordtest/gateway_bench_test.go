//go:build unix

package discordtest

import (
	"encoding/json"
	"strings"
	"syscall"
	"testing"
	"time"
)

// BenchmarkGatewayDispatch measures dispatches per second pushed through
// Gateway.Dispatch to one client over loopback: the fake's sequencing,
// replay buffer, compression and framing. The client is the raw wsproto
// one, which counts messages without decompressing them, so the figure is
// the fake's. Besides wall-clock rates it reports the process's CPU time
// per dispatch (fake and client together), which a loaded machine skews
// far less.
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
			b.SetBytes(int64(len(data)))
			b.ResetTimer()
			start, cpu0 := time.Now(), cpuTime()
			for i := 0; i < b.N; i++ {
				if _, err := g.Dispatch(0, "MESSAGE_CREATE", data); err != nil {
					b.Fatal(err)
				}
			}
			if err := <-done; err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "dispatches/s")
			b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-µs/dispatch")
		})
	}
}

// cpuTime is the user and system CPU time the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
