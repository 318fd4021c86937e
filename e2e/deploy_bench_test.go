package e2e

import (
	"slices"
	"syscall"
	"testing"
	"time"
)

// BenchmarkDeploy compares a deploy by handoff (`ipcord bot --take-over`)
// with a plain restart (stop, then start and IDENTIFY every shard through
// the identify buckets), rounds alternated, 16 shards, max_concurrency 1
// (what Discord gives most bots), 500 events/s of traffic. Per round:
//
//   - to-moved: from starting the new process to every shard moved (the
//     handoff) or READY again (the restart);
//   - deaf: the longest time any one shard had nobody handling its
//     events: from its release to its delivery in the new process (the
//     handoff), from the stop to its READY (the restart).
//
// Run with -benchtime Nx for N rounds; it reports medians and ranges.
func BenchmarkDeploy(b *testing.B) {
	const shards = 16
	fake := startFake(b, "--shards", "16", "--guilds", "32", "--traffic", "500/s", "--max-concurrency", "1")
	cur := startBot(b, fake)
	cur.waitReady(b, shards, 120*time.Second)
	var deployMoved, deployDeaf, restartMoved, restartDeaf []time.Duration
	for range b.N {
		// A deploy by handoff.
		t0 := time.Now()
		next := startBot(b, fake, "--take-over", cur.url)
		m := next.waitFor(b, tookOverLine, 60*time.Second)
		deployMoved = append(deployMoved, time.Since(t0))
		deaf, err := time.ParseDuration(m[3])
		if err != nil {
			b.Fatal(err)
		}
		deployDeaf = append(deployDeaf, deaf)
		select {
		case <-cur.exited:
		case <-time.After(20 * time.Second):
			b.Fatal("the old generation did not exit")
		}
		cur = next

		// A plain restart.
		t0 = time.Now()
		syscall.Kill(cur.cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-cur.exited:
		case <-time.After(20 * time.Second):
			b.Fatal("the bot did not stop on SIGTERM")
		}
		cur = startBot(b, fake)
		ready := cur.waitReady(b, shards, 180*time.Second)
		restartMoved = append(restartMoved, time.Since(t0))
		var longest time.Duration
		for _, at := range ready {
			longest = max(longest, at.Sub(t0))
		}
		restartDeaf = append(restartDeaf, longest)
	}
	report := func(name string, ds []time.Duration) {
		s := slices.Clone(ds)
		slices.Sort(s)
		med := s[len(s)/2]
		if len(s)%2 == 0 {
			med = (s[len(s)/2-1] + s[len(s)/2]) / 2
		}
		b.ReportMetric(float64(med.Microseconds())/1000, name+"-median-ms")
		b.ReportMetric(float64(s[0].Microseconds())/1000, name+"-min-ms")
		b.ReportMetric(float64(s[len(s)-1].Microseconds())/1000, name+"-max-ms")
		b.Logf("%s: %v", name, ds)
	}
	report("deploy-moved", deployMoved)
	report("deploy-deaf", deployDeaf)
	report("restart-moved", restartMoved)
	report("restart-deaf", restartDeaf)
}
