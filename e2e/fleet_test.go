package e2e

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ipcord/ipcord/internal/proctest"
)

// The fleet test runs a real nats-server, `ipcord fake` and `ipcord bot
// --nats --fleet` members, all as processes stopped or killed by PID.

var (
	natsOnce      sync.Once
	natsErr       error
	natsListening = regexp.MustCompile(`Listening for client connections on (\S+:\d+)`)
	leftFleetLine = regexp.MustCompile(`left the fleet: (\d+) shards handed over in (\S+)`)
)

// natsServerBinary builds the nats-server the root module requires (the
// one its tests embed) next to the ipcord binary.
func natsServerBinary(t testing.TB) string {
	t.Helper()
	dir := filepath.Dir(ipcordBinary(t))
	natsOnce.Do(func() {
		natsErr = proctest.Build("..", "-o", filepath.Join(dir, "nats-server"), "github.com/nats-io/nats-server/v2")
	})
	if natsErr != nil {
		t.Fatal(natsErr)
	}
	return filepath.Join(dir, "nats-server")
}

// startNATS runs nats-server with JetStream on 127.0.0.1 and returns its
// client URL.
func startNATS(t testing.TB) string {
	t.Helper()
	_, url := startNATSProcess(t)
	return url
}

// startNATSProcess is startNATS, with the process.
func startNATSProcess(t testing.TB) (*process, string) {
	t.Helper()
	p := startProcess(t, "", nil, natsServerBinary(t), "-a", "127.0.0.1", "-p", "-1", "-js", "-sd", t.TempDir())
	return p, "nats://" + p.WaitFor(t, natsListening, 30*time.Second)[1]
}

// startMember runs `ipcord bot` as member name of fleet "f".
func startMember(t testing.TB, fakeURL, natsURL, name, journal string, args ...string) *bot {
	t.Helper()
	return startBot(t, fakeURL, append([]string{"--nats", natsURL, "--fleet", "f", "--cluster", name,
		"--lease-ttl", "1s", "-v", "--journal", journal}, args...)...)
}

// kill9 kills the process outright, as a crash would.
func (p *process) kill9(t testing.TB) {
	t.Helper()
	p.Signal(syscall.SIGKILL)
	<-p.Exited()
}

// waitFleet polls the members' stats until they hold every shard between
// them, each its share, all READY; it returns who holds what.
func waitFleet(t testing.TB, shards int, what string, members ...*bot) map[int]int {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		held := map[int]int{} // shard -> pid
		ok := true
		for _, m := range members {
			st := m.stats(t)
			n := len(st.Shards)
			if n < shards/len(members) || n > (shards+len(members)-1)/len(members) {
				ok = false
			}
			for _, s := range st.Shards {
				if _, dup := held[s.ID]; dup || s.State != "READY" {
					ok = false
				}
				held[s.ID] = st.PID
			}
		}
		if ok && len(held) == shards {
			return held
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: the fleet holds %v (shard -> pid)", what, held)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// gatewayHistory reads the fake's /_fake/sent: per shard, the IDENTIFYs
// and RESUMEs in the order received, each with its connection (and a
// RESUME's session and seq), to tell which process did what when the
// IDENTIFY count is off.
func gatewayHistory(t testing.TB, fakeURL string) map[int]string {
	t.Helper()
	var sent struct {
		Gateway []struct {
			Conn  int             `json:"conn"`
			Shard int             `json:"shard"`
			Op    int             `json:"op"`
			D     json.RawMessage `json:"d"`
		} `json:"gateway"`
	}
	getJSON(t, fakeURL+"/_fake/sent", &sent)
	out := map[int]string{}
	for _, p := range sent.Gateway {
		switch p.Op {
		case 2:
			out[p.Shard] += fmt.Sprintf(" conn%d:IDENTIFY", p.Conn)
		case 6:
			var d struct {
				Session string `json:"session_id"`
				Seq     int64  `json:"seq"`
			}
			json.Unmarshal(p.D, &d)
			out[p.Shard] += fmt.Sprintf(" conn%d:RESUME(%s@%d)", p.Conn, d.Session, d.Seq)
		}
	}
	return out
}

// journalCount is the journal's account per shard up to the markers.
type journalCount struct {
	lost    int         // seqs up to the marker nobody handled
	repeats map[int]int // pid -> events it handled that were handled before
}

// countJournal reads the journal and counts, per shard, the seqs up to
// markers[shard] that nobody handled and the repeats by handling pid.
func countJournal(t testing.TB, path string, markers map[int]int64) map[int]journalCount {
	t.Helper()
	out := map[int]journalCount{}
	for sh, entries := range readJournal(t, path) {
		c := journalCount{repeats: map[int]int{}}
		seen := map[int64]bool{}
		for _, e := range entries {
			if seen[e.seq] {
				c.repeats[e.pid]++
			}
			seen[e.seq] = true
		}
		for seq := int64(1); seq <= markers[sh]; seq++ {
			if !seen[seq] {
				c.lost++
			}
		}
		out[sh] = c
	}
	return out
}

// markAll dispatches a marker to every shard and waits until the members
// handled up to it.
func markAll(t testing.TB, fakeURL string, shards int, members ...*bot) map[int]int64 {
	t.Helper()
	markers := map[int]int64{}
	for sh := range shards {
		markers[sh] = dispatchMarker(t, fakeURL, sh)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		past := 0
		for _, m := range members {
			for _, s := range m.stats(t).Shards {
				if s.LastSeq >= markers[s.ID] {
					past++
				}
			}
		}
		if past == shards {
			return markers
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d shards handled their marker", past, shards)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// A fleet of three members over a real nats-server shares 16 shards while
// 600 events/s flow. SIGTERM on one: its shards move to the others by
// handoff (nothing lost or repeated, no IDENTIFY). kill -9 on another:
// the last one resumes its shards from their checkpoints once the leases
// expire (nothing lost; repeats within a checkpoint's 100 events). Two new
// members with --dedupe take their share by handoff; kill -9 on the
// holder of the rest: they resume its shards after the last event its
// handler journaled, so nothing is lost and nothing repeated. The fake
// sees no IDENTIFY after the first 16 throughout.
func TestFleetProcesses(t *testing.T) {
	const shards, checkpointEvents = 16, 100
	natsURL := startNATS(t)
	fake := startFake(t, "--shards", "16", "--guilds", "32", "--traffic", "600/s")
	journal := filepath.Join(t.TempDir(), "journal")
	a := startMember(t, fake, natsURL, "a", journal)
	b := startMember(t, fake, natsURL, "b", journal)
	c := startMember(t, fake, natsURL, "c", journal)
	waitFleet(t, shards, "three members", a, b, c)
	members := []*bot{a, b, c}
	identifies := func(when string) {
		t.Helper()
		if n, _ := fakeSent(t, fake); n != shards {
			for sh, h := range gatewayHistory(t, fake) {
				t.Logf("shard %d: %s", sh, h)
			}
			for _, m := range members {
				t.Logf("member pid %d:\n%s", m.Pid(), m.Output())
			}
			t.Fatalf("%s: %d IDENTIFYs, want the first %d only", when, n, shards)
		}
	}
	identifies("three members")

	// SIGTERM: b hands its shards over and exits by itself.
	b.Signal(syscall.SIGTERM)
	m := b.WaitFor(t, leftFleetLine, 30*time.Second)
	b.waitExit(t, 20*time.Second)
	t.Logf("SIGTERM: %s shards handed over in %s", m[1], m[2])
	waitFleet(t, shards, "after b left", a, c)
	markers := markAll(t, fake, shards, a, c)
	for sh, jc := range countJournal(t, journal, markers) {
		if jc.lost != 0 || len(jc.repeats) != 0 {
			t.Errorf("after SIGTERM: shard %d: %d lost, repeats by pid %v", sh, jc.lost, jc.repeats)
		}
	}
	identifies("after SIGTERM")

	// kill -9 without dedupe: repeats bounded by the checkpoint.
	a.kill9(t)
	waitFleet(t, shards, "after a died", c)
	markers = markAll(t, fake, shards, c)
	cPID := c.stats(t).PID
	for sh, jc := range countJournal(t, journal, markers) {
		if jc.lost != 0 || jc.repeats[cPID] > checkpointEvents || len(jc.repeats) > 1 {
			t.Errorf("after kill -9: shard %d: %d lost, repeats by pid %v (c is %d)", sh, jc.lost, jc.repeats, cPID)
		}
		if jc.repeats[cPID] > 0 {
			t.Logf("after kill -9: shard %d: %d repeats", sh, jc.repeats[cPID])
		}
	}
	identifies("after kill -9")

	// Two members with dedupe join, and the one left is killed.
	d := startMember(t, fake, natsURL, "d", journal, "--dedupe")
	e := startMember(t, fake, natsURL, "e", journal, "--dedupe")
	members = append(members, d, e)
	waitFleet(t, shards, "after d and e joined", c, d, e)
	before := countJournal(t, journal, markers)
	c.kill9(t)
	waitFleet(t, shards, "after c died", d, e)
	markers = markAll(t, fake, shards, d, e)
	dPID, ePID := d.stats(t).PID, e.stats(t).PID
	for sh, jc := range countJournal(t, journal, markers) {
		if jc.lost != 0 || jc.repeats[dPID] != 0 || jc.repeats[ePID] != 0 || jc.repeats[cPID] != before[sh].repeats[cPID] {
			t.Errorf("after kill -9 with dedupe: shard %d: %d lost, repeats by pid %v (d %d, e %d)", sh, jc.lost, jc.repeats, dPID, ePID)
		}
	}
	identifies("after kill -9 with dedupe")
	// The bots' own accounting agrees: every seq handled, one IDENTIFY.
	for _, mb := range []*bot{d, e} {
		for _, s := range mb.stats(t).Shards {
			if s.Gaps != 0 || s.Identifies != 1 || s.FirstSeq != 1 {
				t.Errorf("pid %d: shard %d: first %d, gaps %d, IDENTIFYs %d", s.PID, s.ID, s.FirstSeq, s.Gaps, s.Identifies)
			}
		}
	}
}
