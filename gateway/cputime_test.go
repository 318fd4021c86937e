package gateway_test

import (
	"testing"
	"time"

	"github.com/ipcord/ipcord/internal/cputime"
)

// cpuMeter reports throughput over the process's CPU time (user + system)
// beside the wall-clock figure: on a machine shared with other jobs the
// wall clock measures the neighbours as much as the code.
type cpuMeter struct{ start time.Duration }

func startCPU() cpuMeter { return cpuMeter{cputime.Process()} }

// report adds a "cpu-MB/s" metric for bytes processed per iteration.
func (m cpuMeter) report(b *testing.B, bytes int) {
	d := cputime.Process() - m.start
	if d > 0 {
		b.ReportMetric(float64(bytes)*float64(b.N)/d.Seconds()/1e6, "cpu-MB/s")
	}
}
