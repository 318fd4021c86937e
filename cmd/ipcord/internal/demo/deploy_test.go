package demo_test

import (
	"strings"
	"testing"
	"time"

	"github.com/ipcord/ipcord/cmd/ipcord/internal/demo"
	"github.com/ipcord/ipcord/discordtest"
	"github.com/ipcord/ipcord/internal/leaktest"
)

// The console's deploy button, through its HTTP API: generation 2 takes
// each shard from generation 1 by handoff over IPC while events flow, a
// second deploy meanwhile is refused (409), the stats show each shard's
// generation as it moves and, at the end, nothing lost, repeated or
// re-identified, by the bot's accounting and by fake Discord's; a second
// deploy (generation 3) goes the same way.
func TestConsoleDeploy(t *testing.T) {
	leaktest.Check(t)
	const shards = 3
	d := startDemo(t, demo.Config{Guilds: 3, Shards: shards, Traffic: 150, HeartbeatInterval: time.Second, DeployPace: 300 * time.Millisecond})
	base := d.Info.DashboardURL
	waitStats(t, base, "the shards ready, READY handled", func(st demo.Stats) bool {
		ready := 0
		for _, s := range st.Shards {
			if s.State == "READY" && s.Generation == 1 && s.Identifies == 1 {
				ready++
			}
		}
		return ready == shards
	})
	for gen := 2; gen <= 3; gen++ {
		code, body := do(t, "POST", base+"/api/deploy", "", struct{}{})
		var started demo.DeployStarted
		mustJSON(t, body, &started)
		if code != 200 || started.Generation != gen {
			t.Fatalf("deploy: %d %s, want generation %d", code, body, gen)
		}
		if code, body := do(t, "POST", base+"/api/deploy", "", struct{}{}); code != 409 || !strings.Contains(string(body), demo.CodeDeploying) {
			t.Errorf("a deploy during a deploy: %d %s, want 409", code, body)
		}
		// Part way: shards of both generations run side by side.
		waitStats(t, base, "a shard moved, another not yet", func(st demo.Stats) bool {
			gens := map[int]bool{}
			for _, s := range st.Shards {
				gens[s.Generation] = true
			}
			return len(st.Shards) == shards && gens[gen-1] && gens[gen] && st.Deploy != nil && !st.Deploy.Done
		})
		st := waitStats(t, base, "the deploy done", func(st demo.Stats) bool { return st.Deploy != nil && st.Deploy.Done })
		dep := st.Deploy
		if dep.Generation != gen || dep.From != gen-1 || dep.Moved != shards || dep.Error != "" || dep.LongestDeafMS <= 0 {
			t.Fatalf("deploy: %+v", dep)
		}
		// Events keep coming through the new generation; then every seq
		// handled so far was handled exactly once.
		handled := map[int]int64{}
		for _, s := range st.Shards {
			handled[s.ID] = s.Handled
		}
		st = waitStats(t, base, "events through the new generation", func(st demo.Stats) bool {
			n := 0
			for _, s := range st.Shards {
				if s.Generation == gen && s.State == "READY" && s.Handled >= handled[s.ID]+5 {
					n++
				}
			}
			return n == shards
		})
		if dep := st.Deploy; dep.Lost != 0 || dep.Repeated != 0 || dep.Identifies != 0 {
			t.Errorf("generation %d: %d lost, %d repeated, %d IDENTIFYs", gen, dep.Lost, dep.Repeated, dep.Identifies)
		}
		for _, s := range st.Shards {
			if s.FirstSeq != 1 || s.Gaps != 0 || s.Repeats != 0 || s.Identifies != 1 || s.Resumes != gen-1 {
				t.Errorf("shard %d: first %d, gaps %d, repeats %d, IDENTIFYs %d, RESUMEs %d", s.ID, s.FirstSeq, s.Gaps, s.Repeats, s.Identifies, s.Resumes)
			}
		}
		moves := 0
		for _, n := range st.Errors {
			if n.Level == "action" && strings.Contains(n.Text, "moved to generation "+sfmt(uint64(gen))) {
				moves++
			}
		}
		if moves != shards {
			t.Errorf("the feed tells %d moves to generation %d: %+v", moves, gen, st.Errors)
		}
		// A shard's RESUMED in its new generation is no recovery.
		for _, n := range st.Errors {
			if n.Level == "recovered" {
				t.Errorf("a deploy reported as a recovery: %+v", n)
			}
		}
	}
	identifies := d.Fake().Gateway().CountReceived(func(r discordtest.Received) bool { return r.Op == 2 })
	if identifies != shards {
		t.Errorf("fake Discord got %d IDENTIFYs, want the first %d only", identifies, shards)
	}
}
