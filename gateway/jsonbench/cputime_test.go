package jsonbench

import (
	"syscall"
	"testing"
	"time"
)

// cpuNow is the process's CPU time (user + system).
func cpuNow() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU adds a "cpu-MB/s" metric: bytes per iteration over CPU time.
func reportCPU(b *testing.B, bytes int, d time.Duration) {
	if d > 0 {
		b.ReportMetric(float64(bytes)*float64(b.N)/d.Seconds()/1e6, "cpu-MB/s")
	}
}
