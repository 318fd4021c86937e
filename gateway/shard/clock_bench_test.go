package shard

import (
	"testing"
	"time"
)

// BenchmarkLoopTiming measures what the loop pays per iteration to read the
// time and re-arm its timer: through Clock (the system clock behind an
// interface) against time.Now and *time.Timer directly.
func BenchmarkLoopTiming(b *testing.B) {
	b.Run("direct", func(b *testing.B) {
		t := time.NewTimer(time.Hour)
		defer t.Stop()
		b.ReportAllocs()
		for b.Loop() {
			now := time.Now()
			t.Reset(now.Add(time.Hour).Sub(now))
		}
	})
	b.Run("clock", func(b *testing.B) {
		var c Clock = clockOr(nil)
		t := c.TimerAt(c.Now().Add(time.Hour))
		defer t.Stop()
		b.ReportAllocs()
		for b.Loop() {
			t.ResetAt(c.Now().Add(time.Hour))
		}
	})
}
