package e2e

import (
	"context"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// A successor killed (kill -9) in the middle of a deploy, after it had
// committed some shards and not others, leaves nothing orphaned: the
// running generation kept the session of each shard it handed over until
// the takeover's end, and when the successor's renewals stop it resumes
// them (RESUME, never IDENTIFY) from the seq it handed over. Nothing is
// lost; the events the successor had handled are handled again (counted
// from the journal); and a later successor still takes every shard.
func TestDeploySuccessorKilledMidDeploy(t *testing.T) {
	const shards = 16
	fake := startFake(t, "--shards", "16", "--guilds", "32", "--traffic", "600/s")
	journal := t.TempDir() + "/journal"
	gen := startBot(t, fake, "--journal", journal, "-v")
	gen.waitShards(t, shards, 30*time.Second, "ready", func(s shardStats) bool { return s.State == "READY" })

	moved := regexp.MustCompile(`handoff: shard moved`)
	var succ *bot
	for attempt := 1; succ == nil; attempt++ {
		if attempt > 3 {
			t.Fatal("three successors took every shard before the fault could stop them")
		}
		next := startBot(t, fake, "--journal", journal, "--take-over", gen.url, "-v")
		// Once the first shard is committed, the fake refuses
		// connections: the successor cannot resume the shard it moves
		// next, and stays there with some shards committed.
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		_, _, err := gen.WaitLine(ctx, 0, moved.MatchString)
		if err != nil {
			cancel()
			t.Fatalf("no shard moved: %v\n%s", err, gen.Output())
		}
		fakeFault(t, fake, `{"name":"refuse_connections","ms":60000}`)
		line, _, err := next.WaitLine(ctx, 0, func(l string) bool {
			return strings.Contains(l, "shard: reconnecting") || tookOverLine.MatchString(l)
		})
		cancel()
		if err != nil {
			t.Fatalf("the successor neither got stuck nor finished: %v\n%s", err, next.Output())
		}
		if tookOverLine.MatchString(line) {
			// It took every shard before the fault: it is the running
			// generation now, and the next successor tries again.
			fakeFault(t, fake, `{"name":"refuse_connections","ms":0}`)
			t.Logf("attempt %d: the successor moved every shard first: %s", attempt, line)
			gen.waitExit(t, 20*time.Second)
			gen = next
			continue
		}
		succ = next
	}
	genPID, succPID := gen.stats(t).PID, succ.stats(t).PID
	succ.kill9(t)
	fakeFault(t, fake, `{"name":"refuse_connections","ms":0}`)
	committed := len(moved.FindAllString(gen.Output(), -1))
	if committed < 1 || committed >= shards {
		t.Fatalf("the successor was killed with %d of %d shards committed", committed, shards)
	}
	t.Logf("the successor (pid %d) was killed with %d of %d shards committed", succPID, committed, shards)

	gen.WaitFor(t, regexp.MustCompile(`handoff: the successor stopped renewing its takeover`), 30*time.Second)
	gen.waitShards(t, shards, 30*time.Second, "ready again", func(s shardStats) bool { return s.State == "READY" })
	markers := map[int]int64{}
	for sh := range shards {
		markers[sh] = dispatchMarker(t, fake, sh)
	}
	st := gen.waitShards(t, shards, 30*time.Second, "past the marker", func(s shardStats) bool { return s.LastSeq >= markers[s.ID] })
	for _, s := range st.Shards {
		if s.FirstSeq != 1 || s.Gaps != 0 || s.Identifies != 1 || s.PID != genPID {
			t.Errorf("shard %d: first %d, gaps %d, IDENTIFYs %d, pid %d (want %d)", s.ID, s.FirstSeq, s.Gaps, s.Identifies, s.PID, genPID)
		}
	}
	if n, _ := fakeSent(t, fake); n != shards {
		t.Errorf("%d IDENTIFYs, want the first generation's %d only", n, shards)
	}
	repeats, bySucc := checkJournal(t, journal, shards, markers, succPID, genPID)
	t.Logf("%d events handled again by pid %d, on %d shards the killed successor had handled events of", repeats, genPID, bySucc)
	if bySucc > committed {
		t.Errorf("the successor handled events of %d shards, but only %d were committed", bySucc, committed)
	}

	// The running generation can still hand everything over.
	last := startBot(t, fake, "--journal", journal, "--take-over", gen.url)
	if m := last.WaitFor(t, tookOverLine, 60*time.Second); m[1] != strconv.Itoa(shards) {
		t.Fatalf("the last successor took %s shards:\n%s", m[1], last.Output())
	}
	gen.waitExit(t, 20*time.Second)
	for sh := range shards {
		markers[sh] = dispatchMarker(t, fake, sh)
	}
	st = last.waitShards(t, shards, 30*time.Second, "past the marker", func(s shardStats) bool { return s.LastSeq >= markers[s.ID] })
	for _, s := range st.Shards {
		if s.Gaps != 0 || s.Identifies != 1 {
			t.Errorf("after the last deploy: shard %d: gaps %d, IDENTIFYs %d", s.ID, s.Gaps, s.Identifies)
		}
	}
	if n, _ := fakeSent(t, fake); n != shards {
		t.Errorf("%d IDENTIFYs after the last deploy, want %d", n, shards)
	}
	checkJournal(t, journal, shards, markers, succPID, genPID)
}

// checkJournal asserts that each shard's journal has every seq up to its
// marker with none skipped; a seq may appear again (a repeat) only when
// the killed process handled it first and the process that resumed its
// shards handles it again. It returns the repeats and the number of
// shards the killed process handled events of.
func checkJournal(t *testing.T, path string, shards int, markers map[int]int64, killed, resumer int) (repeats, byKilled int) {
	t.Helper()
	j := readJournal(t, path)
	for sh := range shards {
		var last int64
		first := map[int64]int{} // seq -> the pid that handled it first
		handled := false
		for _, e := range j[sh] {
			switch {
			case e.seq == last+1:
				first[e.seq] = e.pid
			case e.seq <= last && e.pid == resumer && first[e.seq] == killed:
				repeats++
			default:
				t.Errorf("journal: shard %d: seq %d (pid %d, generation %d) after %d", sh, e.seq, e.pid, e.gen, last)
				return repeats, byKilled
			}
			last = max(last, e.seq)
			handled = handled || e.pid == killed
		}
		if handled {
			byKilled++
		}
		if last < markers[sh] {
			t.Errorf("journal: shard %d: up to %d, marker %d", sh, last, markers[sh])
		}
	}
	return repeats, byKilled
}
