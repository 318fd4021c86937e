package e2e

import (
	"os/exec"
	"slices"
	"strconv"
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
		m := next.WaitFor(b, tookOverLine, 60*time.Second)
		deployMoved = append(deployMoved, time.Since(t0))
		deaf, err := time.ParseDuration(m[3])
		if err != nil {
			b.Fatal(err)
		}
		deployDeaf = append(deployDeaf, deaf)
		select {
		case <-cur.Exited():
		case <-time.After(20 * time.Second):
			b.Fatal("the old generation did not exit")
		}
		cur = next

		// A plain restart.
		t0 = time.Now()
		cur.Signal(syscall.SIGTERM)
		select {
		case <-cur.Exited():
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
	report(b, "deploy-moved", deployMoved)
	report(b, "deploy-deaf", deployDeaf)
	report(b, "restart-moved", restartMoved)
	report(b, "restart-deaf", restartDeaf)
}

// report gives the median and range of ds as metrics name-median-ms,
// -min-ms and -max-ms, and logs every round.
func report(b *testing.B, name string, ds []time.Duration) {
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

// placement is where the processes of a round run: the bots on one set
// of CPUs, fake Discord (and nats-server) on another.
type placement struct{ name, bots, others string }

// placements alternate in the rounds of the placement benchmarks: every
// process free to run on both cores, or the bots on core 0 and the rest on
// core 1.
var placements = []placement{{"unpinned", "0,1", "0,1"}, {"pinned", "0", "1"}}

// pin sets the CPUs every thread of a running process may run on.
func pin(b *testing.B, p *process, cpus string) {
	b.Helper()
	if out, err := exec.Command("taskset", "-a", "-p", "-c", cpus, strconv.Itoa(p.Pid())).CombinedOutput(); err != nil {
		b.Fatalf("taskset %s: %v\n%s", cpus, err, out)
	}
}

// BenchmarkDeployPlacement is the handoff deploy of BenchmarkDeploy (16
// shards, max_concurrency 1, 500 events/s) with its rounds alternated
// between placements: unpinned, then the old and the new bot on core 0
// (taskset) and the fake on core 1. Per round: to-moved (start of the new
// process → every shard moved), handoff (the new process's own count, from
// its first release to its last delivery) and deaf (the longest any one
// shard waited for a handler).
func BenchmarkDeployPlacement(b *testing.B) {
	const shards = 16
	fp, fake := startFakeProcess(b, "--shards", "16", "--guilds", "32", "--traffic", "500/s", "--max-concurrency", "1")
	cur := startBot(b, fake)
	cur.waitReady(b, shards, 120*time.Second)
	moved, handoff, deaf := map[string][]time.Duration{}, map[string][]time.Duration{}, map[string][]time.Duration{}
	for range b.N {
		for _, pl := range placements {
			pin(b, fp, pl.others)
			pin(b, cur.process, pl.bots)
			t0 := time.Now()
			next := startBotOn(b, pl.bots, fake, "--take-over", cur.url)
			m := next.WaitFor(b, tookOverLine, 60*time.Second)
			moved[pl.name] = append(moved[pl.name], time.Since(t0))
			if m[1] != strconv.Itoa(shards) {
				b.Fatalf("took over %s shards", m[1])
			}
			for i, into := range []map[string][]time.Duration{handoff, deaf} {
				d, err := time.ParseDuration(m[2+i])
				if err != nil {
					b.Fatal(err)
				}
				into[pl.name] = append(into[pl.name], d)
			}
			select {
			case <-cur.Exited():
			case <-time.After(20 * time.Second):
				b.Fatal("the old generation did not exit")
			}
			cur = next
		}
	}
	for _, pl := range placements {
		report(b, pl.name+"-to-moved", moved[pl.name])
		report(b, pl.name+"-handoff", handoff[pl.name])
		report(b, pl.name+"-deaf", deaf[pl.name])
	}
}

// BenchmarkFleetLeave: a fleet of three `ipcord bot --nats` members
// (default lease TTL, 3 s) shares 16 shards under 500 events/s; per round
// one member gets SIGTERM and hands its shards to the other two, and a new
// member joins (taking its share back by handoff). Rounds alternate the
// placements (pinned: the members on core 0, nats-server and the fake on
// core 1). Per round: leave (the leaving member's own count, from SIGTERM's
// Leave to holding nothing) and to-exit (SIGTERM → the process ended).
func BenchmarkFleetLeave(b *testing.B) {
	const shards = 16
	np, natsURL := startNATSProcess(b)
	fp, fake := startFakeProcess(b, "--shards", "16", "--guilds", "32", "--traffic", "500/s")
	n := 0
	join := func(cpus string) *bot {
		n++
		return startBotOn(b, cpus, fake, "--nats", natsURL, "--fleet", "bench", "--cluster", "m"+strconv.Itoa(n))
	}
	members := []*bot{join(""), join(""), join("")}
	waitFleet(b, shards, "three members", members...)
	leave, exit := map[string][]time.Duration{}, map[string][]time.Duration{}
	for range b.N {
		for _, pl := range placements {
			pin(b, np, pl.others)
			pin(b, fp, pl.others)
			for _, m := range members {
				pin(b, m.process, pl.bots)
			}
			victim := members[0]
			t0 := time.Now()
			victim.Signal(syscall.SIGTERM)
			m := victim.WaitFor(b, leftFleetLine, 60*time.Second)
			d, err := time.ParseDuration(m[2])
			if err != nil {
				b.Fatal(err)
			}
			select {
			case <-victim.Exited():
			case <-time.After(30 * time.Second):
				b.Fatal("the member did not exit after leaving")
			}
			exit[pl.name] = append(exit[pl.name], time.Since(t0))
			leave[pl.name] = append(leave[pl.name], d)
			members = append(members[1:], join(pl.bots))
			waitFleet(b, shards, "a new member joined", members...)
		}
	}
	for _, pl := range placements {
		report(b, pl.name+"-leave", leave[pl.name])
		report(b, pl.name+"-to-exit", exit[pl.name])
	}
}
