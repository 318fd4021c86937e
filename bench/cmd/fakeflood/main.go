package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/ipcord/ipcord/bench/internal/fakeproc"
	"github.com/ipcord/ipcord/bench/internal/spread"
	"github.com/ipcord/ipcord/gateway"
	"github.com/ipcord/ipcord/gateway/shard"
)

const token = "MTAwMDAwMDAwMDAwMDAwMDAwMQ.bench.token"

func main() {
	role := flag.String("role", "", "internal: shard, run by the parent")
	url := flag.String("url", "", "internal: the gateway URL for -role shard")
	comp := flag.String("compress", "none", "internal: the shard's transport compression")
	n := flag.Int("n", 200000, "events per trial")
	rounds := flag.Int("rounds", 5, "rounds")
	modes := flag.String("modes", "none,zlib-stream,zstd-stream", "transport compressions")
	placements := flag.String("placements", "pinned,unpinned", "pinned (shard on CPU 0, fake on CPU 1) and/or unpinned")
	flag.Parse()
	if *role == "shard" {
		runShard(*url, *comp, *n)
		return
	}
	dir, err := os.MkdirTemp("", "fakeflood")
	if err != nil {
		fail(err)
	}
	defer os.RemoveAll(dir)
	bin, err := fakeproc.Build(dir)
	if err != nil {
		fail(err)
	}
	self, err := os.Executable()
	if err != nil {
		fail(err)
	}
	events, err := corpus("../gateway/testdata/session.jsonl")
	if err != nil {
		fail(err)
	}
	type cell struct{ mode, placement string }
	var cells []cell
	for _, m := range strings.Split(*modes, ",") {
		for _, p := range strings.Split(*placements, ",") {
			cells = append(cells, cell{m, p})
		}
	}
	results := map[cell][]trial{}
	for r := range *rounds {
		for i := range cells {
			c := cells[(i+r)%len(cells)]
			tr, err := run(bin, self, c.mode, c.placement == "pinned", events, *n)
			if err != nil {
				fail(fmt.Errorf("%s %s: %w", c.mode, c.placement, err))
			}
			fmt.Printf("round %d %-11s %-8s %s\n", r+1, c.mode, c.placement, tr)
			results[c] = append(results[c], tr)
		}
	}
	fmt.Printf("\n%d events per trial, %d rounds: median (min–max)\n", *n, *rounds)
	fmt.Println("| compression | placement | events/s | shard CPU, % of a core | shard runnable, % | fake CPU, % of a core | shard µs/event | fake µs/event |")
	fmt.Println("| --- | --- | --- | --- | --- | --- | --- | --- |")
	for _, c := range cells {
		ts := results[c]
		col := func(f func(trial) float64, prec int) string {
			v := make([]float64, len(ts))
			for i, t := range ts {
				v[i] = f(t)
			}
			return spread.Of(v).Format(prec, "")
		}
		fmt.Printf("| %s | %s | %s | %s | %s | %s | %s | %s |\n", c.mode, c.placement,
			col(func(t trial) float64 { return t.rate() }, 0),
			col(func(t trial) float64 { return t.shardBusy() }, 0),
			col(func(t trial) float64 { return t.shardRunnable() }, 0),
			col(func(t trial) float64 { return t.fakeBusy() }, 0),
			col(func(t trial) float64 { return t.shardCPU.Seconds() * 1e6 / float64(t.n) }, 1),
			col(func(t trial) float64 { return t.fakeCPU.Seconds() * 1e6 / float64(t.n) }, 1))
	}
}

// trial is one flood: its events, wall time and each process's CPU time.
type trial struct {
	n                 int
	wall              time.Duration
	shardCPU, fakeCPU time.Duration
	// shardWait is the time the shard's threads were runnable but waiting
	// for a CPU (other processes' turn): with shardCPU, the time it wanted
	// to run.
	shardWait time.Duration
}

func (t trial) rate() float64      { return float64(t.n) / t.wall.Seconds() }
func (t trial) shardBusy() float64 { return 100 * t.shardCPU.Seconds() / t.wall.Seconds() }
func (t trial) shardRunnable() float64 {
	return 100 * (t.shardCPU + t.shardWait).Seconds() / t.wall.Seconds()
}
func (t trial) fakeBusy() float64 { return 100 * t.fakeCPU.Seconds() / t.wall.Seconds() }

func (t trial) String() string {
	return fmt.Sprintf("%8.0f events/s  shard %3.0f%% (runnable %3.0f%%)  fake %3.0f%% of a core  (%.1f vs %.1f µs/event)",
		t.rate(), t.shardBusy(), t.shardRunnable(), t.fakeBusy(), t.shardCPU.Seconds()*1e6/float64(t.n), t.fakeCPU.Seconds()*1e6/float64(t.n))
}

type event struct {
	T string          `json:"t"`
	D json.RawMessage `json:"d"`
}

// corpus is the recorded session's dispatches, READY and RESUMED left out.
func corpus(path string) ([]event, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []event
	for _, line := range bytes.Split(b, []byte("\n")) {
		var p struct {
			Op int `json:"op"`
			event
		}
		if json.Unmarshal(line, &p) != nil || p.Op != 0 || p.T == "READY" || p.T == "RESUMED" {
			continue
		}
		out = append(out, p.event)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no dispatches in %s", path)
	}
	return out, nil
}

// command runs name pinned to cpu, or unpinned when cpu < 0.
func command(ctx context.Context, cpu int, name string, args ...string) *exec.Cmd {
	if cpu < 0 {
		return exec.CommandContext(ctx, name, args...)
	}
	return exec.CommandContext(ctx, "taskset", append([]string{"-c", strconv.Itoa(cpu), name}, args...)...)
}

func run(bin, self, mode string, pinned bool, events []event, n int) (trial, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	fakeCPU, shardCPU := -1, -1
	if pinned {
		fakeCPU, shardCPU = 1, 0
	}
	fake := command(ctx, fakeCPU, bin, "fake", "--addr", "127.0.0.1:0", "--token", token, "--shards", "1", "--guilds", "1")
	urls, err := fakeproc.Start(fake)
	defer func() {
		if fake.Process != nil {
			fake.Process.Kill()
			fake.Wait()
		}
	}()
	if err != nil {
		return trial{}, err
	}
	base, gw := urls.Base, urls.Gateway

	sh := command(ctx, shardCPU, self, "-role", "shard", "-url", gw, "-compress", mode, "-n", strconv.Itoa(n))
	sh.Stderr = os.Stderr
	sout, err := sh.StdoutPipe()
	if err != nil {
		return trial{}, err
	}
	if err := sh.Start(); err != nil {
		return trial{}, err
	}
	defer func() { sh.Process.Kill(); sh.Wait() }()
	lines := bufio.NewScanner(sout)
	if !lines.Scan() || lines.Text() != "ready" {
		return trial{}, fmt.Errorf("shard: %q", lines.Text())
	}
	body, _ := json.Marshal(map[string]any{"shard": 0, "count": n, "events": events})
	s0, f0, w0 := procCPU(sh.Process.Pid), procCPU(fake.Process.Pid), procWait(sh.Process.Pid)
	start := time.Now()
	flood := make(chan error, 1)
	go func() {
		resp, err := http.Post(base+"/_fake/flood", "application/json", bytes.NewReader(body))
		if err == nil {
			msg, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				err = fmt.Errorf("flood: %d %s", resp.StatusCode, msg)
			}
		}
		flood <- err
	}()
	if !lines.Scan() || lines.Text() != "done" {
		return trial{}, fmt.Errorf("shard: %q", lines.Text())
	}
	t := trial{n: n, wall: time.Since(start), shardCPU: procCPU(sh.Process.Pid) - s0, fakeCPU: procCPU(fake.Process.Pid) - f0,
		shardWait: procWait(sh.Process.Pid) - w0}
	if err := <-flood; err != nil {
		return trial{}, err
	}
	return t, nil
}

// procCPU is a process's user and system CPU time, from /proc.
func procCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// Fields after the command name, which is in parentheses: utime and
	// stime are the 12th and 13th, in clock ticks of 1/100 s.
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * 10 * time.Millisecond
}

// procWait is the time a process's threads spent runnable, waiting for a
// CPU: the second field of each /proc/PID/task/TID/schedstat, in ns.
func procWait(pid int) time.Duration {
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/schedstat", pid))
	var sum time.Duration
	for _, t := range tasks {
		b, err := os.ReadFile(t)
		if f := strings.Fields(string(b)); err == nil && len(f) >= 2 {
			ns, _ := strconv.ParseInt(f[1], 10, 64)
			sum += time.Duration(ns)
		}
	}
	return sum
}

// runShard is the shard's process: one ipcord shard whose handler counts
// events; it prints "ready" once the session's GUILD_CREATE is in, then
// "done" after n more events.
func runShard(url, comp string, n int) {
	c := map[string]gateway.Compression{"none": gateway.CompressNone, "zlib-stream": gateway.CompressZlib, "zstd-stream": gateway.CompressZstd}[comp]
	var count atomic.Int64
	ready, done := make(chan struct{}), make(chan struct{})
	s, err := shard.New(shard.Config{
		Gateway: gateway.Config{Token: token, URL: url, Compression: c, Intents: gateway.IntentGuilds},
		Handler: func(_ context.Context, ev shard.Event) {
			switch k := count.Add(1); {
			case ev.Name == "GUILD_CREATE" && k == 2: // after READY
				close(ready)
			case k == int64(n)+2:
				close(done)
			}
		},
	})
	if err != nil {
		fail(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go s.Run(ctx)
	<-ready
	fmt.Println("ready")
	<-done
	fmt.Println("done")
	cancel()
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "fakeflood:", err)
	os.Exit(1)
}
