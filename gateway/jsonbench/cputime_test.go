package jsonbench

import (
	"testing"
	"time"
)

// reportCPU adds a "cpu-MB/s" metric: bytes per iteration over CPU time.
func reportCPU(b *testing.B, bytes int, d time.Duration) {
	if d > 0 {
		b.ReportMetric(float64(bytes)*float64(b.N)/d.Seconds()/1e6, "cpu-MB/s")
	}
}
