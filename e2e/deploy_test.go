package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ipcord/ipcord/ipc"
)

// The deploy tests run `ipcord fake` and generations of `ipcord bot` as
// processes, as a user deploys a bot.

const deploySecret = "deploy-secret"

var (
	fakeRESTLine = regexp.MustCompile(`REST\s+(http://\S+)/api/v10`)
	botIPCLine   = regexp.MustCompile(`generation (\d+), pid (\d+), IPC on (ws://\S+)`)
	tookOverLine = regexp.MustCompile(`took over (\d+) shards in (\S+) \(longest deaf (\S+)\)`)
)

// startFake runs `ipcord fake` with args and returns its base URL.
func startFake(t testing.TB, args ...string) string {
	t.Helper()
	_, url := startFakeProcess(t, args...)
	return url
}

// startFakeProcess is startFake, with the process.
func startFakeProcess(t testing.TB, args ...string) (*process, string) {
	t.Helper()
	p := startProcess(t, "", nil, ipcordBinary(t), append([]string{"fake", "--listen", "127.0.0.1:0"}, args...)...)
	return p, p.WaitFor(t, fakeRESTLine, 30*time.Second)[1]
}

// bot is one `ipcord bot` process.
type bot struct {
	*process
	gen int
	url string // its IPC server
}

// startBot runs `ipcord bot` against the fake at fakeURL.
func startBot(t testing.TB, fakeURL string, args ...string) *bot {
	t.Helper()
	return startBotOn(t, "", fakeURL, args...)
}

// startBotOn runs `ipcord bot` on the CPUs listed (taskset -c), or
// anywhere when cpus is empty.
func startBotOn(t testing.TB, cpus, fakeURL string, args ...string) *bot {
	t.Helper()
	args = append([]string{"bot", "--fake", fakeURL, "--secret", deploySecret, "--ipc-addr", "127.0.0.1:0"}, args...)
	name := ipcordBinary(t)
	if cpus != "" {
		name, args = "taskset", append([]string{"-c", cpus, name}, args...)
	}
	p := startProcess(t, "", nil, name, args...)
	m := p.WaitFor(t, botIPCLine, 30*time.Second)
	gen, _ := strconv.Atoi(m[1])
	return &bot{process: p, gen: gen, url: m[3]}
}

// shardStats is one shard of the bot's stats route.
type shardStats struct {
	ID         int    `json:"id"`
	State      string `json:"state"`
	SessionID  string `json:"session_id"`
	FirstSeq   int64  `json:"first_seq"`
	LastSeq    int64  `json:"last_seq"`
	Handled    int64  `json:"handled"`
	Gaps       int64  `json:"gaps"`
	Repeats    int64  `json:"repeats"`
	Identifies int    `json:"identifies"`
	Resumes    int    `json:"resumes"`
	Generation int    `json:"generation"`
	PID        int    `json:"pid"`
}

type botStats struct {
	Generation int          `json:"generation"`
	PID        int          `json:"pid"`
	Shards     []shardStats `json:"shards"`
}

// stats calls the bot's stats route.
func (b *bot) stats(t testing.TB) botStats {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := ipc.Dial(ctx, ipc.ClientConfig{URL: b.url, Secret: deploySecret})
	if err != nil {
		t.Fatalf("dialing generation %d: %v", b.gen, err)
	}
	defer c.Close()
	st, err := ipc.CallAs[botStats](ctx, c, "stats", nil)
	if err != nil {
		t.Fatalf("stats of generation %d: %v", b.gen, err)
	}
	return st
}

// waitShards polls the bot's stats until cond holds for all n shards.
func (b *bot) waitShards(t testing.TB, n int, timeout time.Duration, what string, cond func(shardStats) bool) botStats {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		st := b.stats(t)
		ok := 0
		for _, s := range st.Shards {
			if cond(s) {
				ok++
			}
		}
		if ok == n && len(st.Shards) == n {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("generation %d: %d of %d shards %s after %v: %+v", b.gen, ok, n, what, timeout, st.Shards)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitExit waits for the process to end by itself and fails unless it
// exited 0.
func (p *process) waitExit(t testing.TB, timeout time.Duration) {
	t.Helper()
	select {
	case <-p.Exited():
		if p.Err() != nil {
			t.Fatalf("%q: %v\n%s", p.Args(), p.Err(), p.Output())
		}
	case <-time.After(timeout):
		t.Fatalf("%q still runs after %v:\n%s", p.Args(), timeout, p.Output())
	}
}

// fakeSent counts the IDENTIFYs (op 2) and RESUMEs (op 6) the fake got.
func fakeSent(t testing.TB, fakeURL string) (identifies, resumes int) {
	t.Helper()
	var sent struct {
		Gateway []struct {
			Op int `json:"op"`
		} `json:"gateway"`
	}
	getJSON(t, fakeURL+"/_fake/sent", &sent)
	for _, p := range sent.Gateway {
		switch p.Op {
		case 2:
			identifies++
		case 6:
			resumes++
		}
	}
	return identifies, resumes
}

func getJSON(t testing.TB, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
}

// dispatchMarker sends an event to a shard through the fake's control
// API and returns its seq.
func dispatchMarker(t testing.TB, fakeURL string, shard int) int64 {
	t.Helper()
	body := fmt.Sprintf(`{"t":"MARKER","d":{},"shard":%d}`, shard)
	resp, err := http.Post(fakeURL+"/_fake/dispatch", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r struct {
		Seq   int64  `json:"seq"`
		Error string `json:"error"`
	}
	json.NewDecoder(resp.Body).Decode(&r)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("dispatch to shard %d: %s %s", shard, resp.Status, r.Error)
	}
	return r.Seq
}

// journal reads the lines the bots appended: per shard, the seqs in the
// order handled, with the process and generation that handled each.
type journalEntry struct {
	seq     int64
	name    string
	pid     int
	gen     int
	session string
}

func readJournal(t testing.TB, path string) map[int][]journalEntry {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[int][]journalEntry{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var sh int
		var e journalEntry
		if _, err := fmt.Sscanf(sc.Text(), "%d %d %s %d %d %s", &sh, &e.seq, &e.name, &e.pid, &e.gen, &e.session); err != nil {
			t.Fatalf("journal line %q: %v", sc.Text(), err)
		}
		out[sh] = append(out[sh], e)
	}
	return out
}

// A deploy is three new generations of the bot, each taking every shard
// from the one before while 600 events/s flow over 16 shards: across the
// four generations each shard handles seq 1..N exactly once (by the
// bots' own accounting and by the journal they append to), and the fake
// sees no IDENTIFY after the first generation's 16.
func TestDeployGenerations(t *testing.T) {
	const shards = 16
	fake := startFake(t, "--shards", "16", "--guilds", "32", "--traffic", "600/s")
	journal := filepath.Join(t.TempDir(), "journal")
	gen := startBot(t, fake, "--journal", journal)
	st0 := gen.waitShards(t, shards, 30*time.Second, "ready", func(s shardStats) bool { return s.State == "READY" })
	var seq0 int64
	for _, s := range st0.Shards {
		seq0 += s.LastSeq
	}
	ident0, _ := fakeSent(t, fake)
	if ident0 != shards {
		t.Fatalf("the first generation sent %d IDENTIFYs", ident0)
	}
	start := time.Now()
	for want := 2; want <= 4; want++ {
		next := startBot(t, fake, "--journal", journal, "--take-over", gen.url)
		if next.gen != want {
			t.Fatalf("generation %d calls itself %d", want, next.gen)
		}
		m := next.WaitFor(t, tookOverLine, 60*time.Second)
		if m[1] != strconv.Itoa(shards) {
			t.Fatalf("generation %d took %s shards:\n%s", want, m[1], next.Output())
		}
		t.Logf("generation %d: took over %s shards in %s, longest deaf %s", want, m[1], m[2], m[3])
		gen.waitExit(t, 20*time.Second)
		gen = next
		// Events flow through the new generation for a while before the
		// next deploy.
		from := gen.stats(t).Shards
		gen.waitShards(t, shards, 30*time.Second, "handling", func(s shardStats) bool {
			return s.LastSeq >= from[s.ID].LastSeq+20
		})
	}
	// Every shard's seqs up to a marker sent now were handled exactly once.
	markers := map[int]int64{}
	for sh := range shards {
		markers[sh] = dispatchMarker(t, fake, sh)
	}
	elapsed := time.Since(start)
	st := gen.waitShards(t, shards, 30*time.Second, "past the marker", func(s shardStats) bool { return s.LastSeq >= markers[s.ID] })
	for _, s := range st.Shards {
		if s.FirstSeq != 1 || s.Gaps != 0 || s.Repeats != 0 || s.Handled != s.LastSeq {
			t.Errorf("shard %d: first %d, last %d, handled %d, gaps %d, repeats %d", s.ID, s.FirstSeq, s.LastSeq, s.Handled, s.Gaps, s.Repeats)
		}
		if s.Identifies != 1 || s.Resumes != 3 || s.Generation != 4 {
			t.Errorf("shard %d: %d IDENTIFYs, %d RESUMEs, generation %d", s.ID, s.Identifies, s.Resumes, s.Generation)
		}
	}
	var sent int64
	for _, seq := range markers {
		sent += seq
	}
	rate := float64(sent-seq0) / elapsed.Seconds()
	t.Logf("%.0f events/s over %v of deploys", rate, elapsed.Round(time.Millisecond))
	if rate < 500 {
		t.Errorf("only %.0f events/s flowed during the deploys", rate)
	}
	ident, resumes := fakeSent(t, fake)
	if ident != shards {
		t.Errorf("%d IDENTIFYs after the first generation", ident-shards)
	}
	if resumes < 3*shards {
		t.Errorf("%d RESUMEs for 3 deploys of %d shards", resumes, shards)
	}
	// The journal, written by the four processes, agrees.
	j := readJournal(t, journal)
	for sh := range shards {
		var last int64
		gens := map[int]bool{}
		for _, e := range j[sh] {
			if e.seq != last+1 {
				t.Errorf("journal: shard %d: seq %d (generation %d) after %d", sh, e.seq, e.gen, last)
				break
			}
			last = e.seq
			gens[e.gen] = true
		}
		if last < markers[sh] || len(gens) != 4 {
			t.Errorf("journal: shard %d: up to %d (marker %d), generations %v", sh, last, markers[sh], gens)
		}
	}
}

// waitReady polls the bot's stats until n shards are READY and returns
// when it first saw each READY.
func (b *bot) waitReady(t testing.TB, n int, timeout time.Duration) map[int]time.Time {
	t.Helper()
	seen := map[int]time.Time{}
	deadline := time.Now().Add(timeout)
	for len(seen) < n {
		for _, s := range b.stats(t).Shards {
			if _, ok := seen[s.ID]; !ok && s.State == "READY" {
				seen[s.ID] = time.Now()
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("generation %d: %d of %d shards READY after %v", b.gen, len(seen), n, timeout)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return seen
}

// fakeFault applies a fault of the fake's control API.
func fakeFault(t testing.TB, fakeURL, body string) {
	t.Helper()
	resp, err := http.Post(fakeURL+"/_fake/fault", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("fault %s: %s %s", body, resp.Status, b)
	}
}

// A deploy that goes wrong loses nothing. A successor with the wrong
// secret is refused, and the running generation keeps every shard. A
// successor killed (kill -9) while a shard is lent to it (the fake refuses
// its connections, so it cannot resume the shard) leaves that shard to the
// running generation, which takes it back when the lease times out and
// resumes it where it stopped: every seq handled exactly once, by the
// running generation, and no IDENTIFY.
func TestDeployBadSuccessors(t *testing.T) {
	const shards = 4
	fake := startFake(t, "--shards", "4", "--traffic", "200/s")
	journal := filepath.Join(t.TempDir(), "journal")
	gen := startBot(t, fake, "--journal", journal, "--lend-timeout", "2s")
	gen.waitShards(t, shards, 30*time.Second, "ready", func(s shardStats) bool { return s.State == "READY" })
	genPID := gen.stats(t).PID

	bad := startProcess(t, "", nil, ipcordBinary(t), "bot", "--fake", fake, "--secret", "wrong", "--ipc-addr", "127.0.0.1:0", "--take-over", gen.url)
	select {
	case <-bad.Exited():
	case <-time.After(30 * time.Second):
		t.Fatal("the successor with the wrong secret still runs")
	}
	var ee *exec.ExitError
	if !errors.As(bad.Err(), &ee) || ee.ExitCode() != 1 || !strings.Contains(bad.Output(), "unauthorized") {
		t.Fatalf("wrong secret: %v\n%s", bad.Err(), bad.Output())
	}

	fakeFault(t, fake, `{"name":"refuse_connections","ms":60000}`)
	succ := startBot(t, fake, "--journal", journal, "--take-over", gen.url, "-v")
	succ.WaitFor(t, regexp.MustCompile(`shard: reconnecting`), 30*time.Second) // it cannot resume the lent shard
	succ.kill9(t)
	fakeFault(t, fake, `{"name":"refuse_connections","ms":0}`)
	gen.WaitFor(t, regexp.MustCompile(`handoff: taking a shard back`), 30*time.Second)

	st := gen.waitShards(t, shards, 30*time.Second, "ready again", func(s shardStats) bool { return s.State == "READY" })
	markers := map[int]int64{}
	for sh := range shards {
		markers[sh] = dispatchMarker(t, fake, sh)
	}
	st = gen.waitShards(t, shards, 30*time.Second, "past the marker", func(s shardStats) bool { return s.LastSeq >= markers[s.ID] })
	for _, s := range st.Shards {
		if s.FirstSeq != 1 || s.Gaps != 0 || s.Repeats != 0 || s.Identifies != 1 {
			t.Errorf("shard %d: first %d, gaps %d, repeats %d, IDENTIFYs %d", s.ID, s.FirstSeq, s.Gaps, s.Repeats, s.Identifies)
		}
	}
	for sh, entries := range readJournal(t, journal) {
		var last int64
		for _, e := range entries {
			if e.seq != last+1 || e.pid != genPID {
				t.Errorf("journal: shard %d: seq %d by pid %d after %d (the running generation is %d)", sh, e.seq, e.pid, last, genPID)
				break
			}
			last = e.seq
		}
		if last < markers[sh] {
			t.Errorf("journal: shard %d: up to %d, marker %d", sh, last, markers[sh])
		}
	}
	if n, _ := fakeSent(t, fake); n != shards {
		t.Errorf("%d IDENTIFYs, want the first %d only", n, shards)
	}
}
