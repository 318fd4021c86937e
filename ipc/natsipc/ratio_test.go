package natsipc_test

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The machine these benchmarks run on is shared, so its speed drifts
// within a run. The *VsBare benchmarks alternate short rounds of both
// sides and report their ratio, which drift affects far less than two
// separate benchmarks would.

// timeParallel runs op ops times from conc goroutines and returns the
// elapsed time.
func timeParallel(b *testing.B, conc, ops int, op func() error) time.Duration {
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range conc {
		wg.Go(func() {
			for next.Add(1) <= int64(ops) {
				if err := op(); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	return time.Since(start)
}

// compare alternates rounds of bare and ours until b.N ops of each ran,
// and reports each side's ns/op and ours as a multiple of bare's time.
func compare(b *testing.B, conc int, bare, ours func() error) {
	const round = 200
	var tBare, tOurs time.Duration
	b.ResetTimer()
	for done := 0; done < b.N; done += round {
		ops := min(round, b.N-done)
		tBare += timeParallel(b, conc, ops, bare)
		tOurs += timeParallel(b, conc, ops, ours)
	}
	b.StopTimer()
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(float64(tBare.Nanoseconds())/float64(b.N), "bare-ns/op")
	b.ReportMetric(float64(tOurs.Nanoseconds())/float64(b.N), "natsipc-ns/op")
	b.ReportMetric(float64(tOurs)/float64(tBare), "time-ratio")
}
