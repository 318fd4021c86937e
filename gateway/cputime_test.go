package gateway_test

import (
	"syscall"
	"testing"
	"time"
)

// cpuMeter reports throughput over the process's CPU time (user + system)
// beside the wall-clock figure: on a machine shared with other jobs the
// wall clock measures the neighbours as much as the code.
type cpuMeter struct{ start time.Duration }

func cpuNow() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func startCPU() cpuMeter { return cpuMeter{cpuNow()} }

// report adds a "cpu-MB/s" metric for bytes processed per iteration.
func (m cpuMeter) report(b *testing.B, bytes int) {
	d := cpuNow() - m.start
	if d > 0 {
		b.ReportMetric(float64(bytes)*float64(b.N)/d.Seconds()/1e6, "cpu-MB/s")
	}
}
