package shard_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ipcord/ipcord/discordtest"
	"github.com/ipcord/ipcord/gateway"
	"github.com/ipcord/ipcord/gateway/shard"
	"github.com/ipcord/ipcord/internal/cputime"
)

type corpusEvent struct {
	name string
	data json.RawMessage
}

// corpus is the gateway package's recorded session: its dispatches,
// without READY.
func corpus() ([]corpusEvent, error) {
	f, err := os.Open("../testdata/session.jsonl")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []corpusEvent
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		var p struct {
			Op int             `json:"op"`
			T  string          `json:"t"`
			D  json.RawMessage `json:"d"`
		}
		if json.Unmarshal(sc.Bytes(), &p) != nil || p.Op != 0 || p.T == "READY" || p.T == "RESUMED" {
			continue
		}
		out = append(out, corpusEvent{p.T, p.D})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("empty corpus")
	}
	return out, nil
}

// BenchmarkShardEvents pushes the recorded dispatches through one shard
// over loopback from a discordtest.Gateway in another process, so the CPU
// time measured here (per 1,000 events) is the shard's alone: reading,
// inflating, framing, parsing, queueing, handing to the handler.
// events/s is end to end, and bounded by the fake's own compression.
func BenchmarkShardEvents(b *testing.B) {
	for _, comp := range []gateway.Compression{gateway.CompressNone, gateway.CompressZlib, gateway.CompressZstd} {
		b.Run(comp.String(), func(b *testing.B) {
			fake := startFakeProcess(b, 1)
			var n atomic.Int64
			target := atomic.Int64{}
			reached := make(chan struct{}, 1)
			s, err := shard.New(shard.Config{
				Gateway: gateway.Config{Token: "t", URL: fake.url, Compression: comp},
				Handler: func(ctx context.Context, ev shard.Event) {
					if n.Add(1) == target.Load() {
						reached <- struct{}{}
					}
				},
			})
			if err != nil {
				b.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- s.Run(ctx) }()
			defer func() { cancel(); <-done }()
			target.Store(1)
			<-reached // READY
			b.ReportAllocs()
			b.ResetTimer()
			cpu0, t0 := cputime.Process(), time.Now()
			target.Store(int64(b.N) + 1)
			fmt.Fprintln(fake.in, b.N)
			select {
			case <-reached:
			case <-time.After(time.Minute):
				b.Fatalf("only %d of %d events arrived", n.Load()-1, b.N)
			}
			wall, cpu := time.Since(t0), cputime.Process()-cpu0
			b.StopTimer()
			b.ReportMetric(float64(b.N)/wall.Seconds(), "events/s")
			b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-ms/1000ev")
		})
	}
}

// fakeEnv, when set, makes the test binary a fake gateway in its own
// process (for the memory benchmarks, whose heap must be the shards'
// alone): it prints the URL and serves until stdin closes.
const fakeEnv = "IPCORD_SHARD_FAKE"

func TestMain(m *testing.M) {
	if spec := os.Getenv(fakeEnv); spec != "" {
		serveFake(spec)
		return
	}
	os.Exit(m.Run())
}

func serveFake(spec string) {
	shards, _ := strconv.Atoi(spec)
	g := &discordtest.Gateway{
		HeartbeatInterval: 41250 * time.Millisecond, Shards: shards, MaxConcurrency: shards,
	}
	if err := g.Start(); err != nil {
		fmt.Println("error", err)
		return
	}
	fmt.Println(g.URL())
	// Each line of stdin is a number of corpus dispatches to send to shard
	// 0; the parent closes stdin to stop us.
	evs, err := corpus()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		n, _ := strconv.Atoi(sc.Text())
		for i := range n {
			e := evs[i%len(evs)]
			g.Dispatch(0, e.name, e.data)
		}
	}
	g.Close()
}

type fakeProcess struct {
	url string
	in  io.Writer // lines of dispatch counts
}

// startFakeProcess runs a fake gateway for shards in a child process.
func startFakeProcess(tb testing.TB, shards int) fakeProcess {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), fakeEnv+"="+strconv.Itoa(shards))
	stdin, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		stdin.Close()
		cmd.Wait()
	})
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "ws://") {
		tb.Fatalf("fake process: %q %v", line, err)
	}
	return fakeProcess{url: strings.TrimSpace(line), in: stdin}
}

// idleShards connects n shards to a fake in another process, waits for
// every READY, and returns the heap and goroutines they added, per shard.
func idleShards(tb testing.TB, n int, comp gateway.Compression) (heapPerShard, goroutinesPerShard float64, stop func()) {
	url := startFakeProcess(tb, n).url
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	g0 := runtime.NumGoroutine()
	ready := make(chan struct{}, n)
	lim := &shard.LocalLimiter{MaxConcurrency: n}
	ctx, cancel := context.WithCancel(context.Background())
	dones := make([]chan error, n)
	for i := range n {
		s, err := shard.New(shard.Config{
			Gateway:  gateway.Config{Token: "t", URL: url, Compression: comp, ShardID: i, ShardCount: n},
			Identify: lim,
			Handler: func(ctx context.Context, ev shard.Event) {
				if ev.Name == "READY" {
					ready <- struct{}{}
				}
			},
		})
		if err != nil {
			tb.Fatal(err)
		}
		dones[i] = make(chan error, 1)
		go func() { dones[i] <- s.Run(ctx) }()
	}
	timeout := time.After(2 * time.Minute)
	for range n {
		select {
		case <-ready:
		case <-timeout:
			tb.Fatal("shards did not all get READY")
		}
	}
	// Idle, as the name says: past the time after which a quiet
	// connection lets go of its buffers. Two collections empty the
	// process's buffer pools, which are no shard's.
	time.Sleep(2500 * time.Millisecond)
	runtime.GC()
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	heap := float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / float64(n)
	gor := float64(runtime.NumGoroutine()-g0) / float64(n)
	return heap, gor, func() {
		cancel()
		for _, d := range dones {
			<-d
		}
	}
}

// BenchmarkIdleShardMemory reports the heap each idle, connected shard
// holds (the fake runs in another process).
func BenchmarkIdleShardMemory(b *testing.B) {
	for _, comp := range []gateway.Compression{gateway.CompressNone, gateway.CompressZlib, gateway.CompressZstd} {
		b.Run(comp.String(), func(b *testing.B) {
			// One measurement per call, whatever b.N: it is a size, not a
			// rate.
			heap, gor, stop := idleShards(b, 100, comp)
			stop()
			b.ReportMetric(heap, "heapB/shard")
			b.ReportMetric(gor, "goroutines/shard")
		})
	}
}

// TestThousandShards is the 1,000-shard run, outside CI: set
// IPCORD_SHARD_1000=1. It reports resident memory and goroutines per
// shard with zlib-stream.
func TestThousandShards(t *testing.T) {
	if os.Getenv("IPCORD_SHARD_1000") == "" {
		t.Skip("set IPCORD_SHARD_1000=1 to run 1,000 shards")
	}
	rss0 := rss(t)
	heap, gor, stop := idleShards(t, 1000, gateway.CompressZlib)
	defer stop()
	rss1 := rss(t)
	t.Logf("1000 shards, zlib-stream: heap %.0f B/shard, RSS %.0f B/shard, %.1f goroutines/shard",
		heap, float64(rss1-rss0)/1000, gor)
}

// rss reads the process's resident set size from /proc.
func rss(t *testing.T) int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		t.Skip("no /proc/self/statm")
	}
	f := strings.Fields(string(b))
	pages, _ := strconv.ParseInt(f[1], 10, 64)
	return pages * int64(os.Getpagesize())
}
