package natsipc_test

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/ipcord/ipcord/discordtest"
	"github.com/ipcord/ipcord/gateway"
	"github.com/ipcord/ipcord/gateway/shard"
	"github.com/ipcord/ipcord/internal/leaktest"
	"github.com/ipcord/ipcord/ipc/natsipc"
)

var _ shard.IdentifyLimiter = (*natsipc.IdentifyLimiter)(nil)

// Limiters on separate connections (as on separate machines) never hand
// out two slots of one bucket within Interval, and buckets do not wait for
// each other.
func TestIdentifyLimiterKeepsBuckets(t *testing.T) {
	leaktest.Check(t)
	s := startServer(t, 0, "")
	const interval = 150 * time.Millisecond
	const mc, shards = 2, 6
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var lims []*natsipc.IdentifyLimiter
	for range 3 {
		l, err := natsipc.NewIdentifyLimiter(ctx, connect(t, s.ClientURL()), natsipc.LimiterConfig{MaxConcurrency: mc, Interval: interval})
		if err != nil {
			t.Fatal(err)
		}
		lims = append(lims, l)
	}
	var mu sync.Mutex
	granted := map[int][]time.Time{} // bucket -> slot times
	var wg sync.WaitGroup
	start := time.Now()
	for id := range shards {
		wg.Go(func() {
			release, err := lims[id%3].Acquire(ctx, id)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			granted[id%mc] = append(granted[id%mc], time.Now())
			mu.Unlock()
			release(nil)
		})
	}
	wg.Wait()
	for b, times := range granted {
		if len(times) != shards/mc {
			t.Fatalf("bucket %d: %d slots, want %d", b, len(times), shards/mc)
		}
		for i := 1; i < len(times); i++ {
			if gap := times[i].Sub(times[i-1]); gap < interval*9/10 {
				t.Fatalf("bucket %d: slots %v apart, want ≥ %v", b, gap, interval)
			}
		}
	}
	// Three slots per bucket need two intervals, not five: the buckets
	// ran side by side.
	if took := time.Since(start); took > 4*interval+2*time.Second {
		t.Fatalf("took %v", took)
	}

	// A slot held by someone else is waited for until ctx ends.
	release, err := lims[0].Acquire(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer release(nil)
	short, cancel2 := context.WithTimeout(ctx, 2*interval)
	defer cancel2()
	if _, err := lims[1].Acquire(short, 2); err == nil {
		t.Fatal("bucket 0 handed out twice")
	}
}

// Three shard Managers, each on its own NATS connection with its own
// limiter, share the identify buckets of one bot: the fake gateway (which
// refuses an IDENTIFY too early in its bucket) sees one IDENTIFY per shard,
// never two in a bucket within 5 s of its clock.
func TestIdentifyLimiterWithManagers(t *testing.T) {
	leaktest.Check(t)
	s := startServer(t, 0, "")
	const timeScale = 100 // the fake's clock runs 100x: its 5 s are 50 ms
	const shards, mc = 6, 2
	startClock := time.Now()
	g := &discordtest.Gateway{
		HeartbeatInterval: 200 * time.Millisecond,
		Now:               func() time.Time { return startClock.Add(time.Since(startClock) * timeScale) },
		Shards:            shards, MaxConcurrency: mc,
	}
	if err := g.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Close() })

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	readyCh := make(chan int, shards)
	for p := range 3 {
		lim, err := natsipc.NewIdentifyLimiter(ctx, connect(t, s.ClientURL()), natsipc.LimiterConfig{MaxConcurrency: mc, Interval: 100 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		m, err := shard.NewManager(shard.ManagerConfig{
			Shard: shard.Config{
				Gateway: gateway.Config{Token: "token", URL: g.URL(), Intents: gateway.IntentGuilds, Jitter: func() float64 { return 0.5 }},
				Handler: func(ctx context.Context, ev shard.Event) {
					if ev.Name == "READY" {
						readyCh <- ev.Shard
					}
				},
				Backoff:  shard.Backoff{Base: 10 * time.Millisecond, Max: 50 * time.Millisecond, Min: time.Millisecond},
				Identify: lim,
			},
			ShardCount: shards, MaxConcurrency: mc,
			Shards: []int{p, p + 3}, // process p runs shards p and p+3
		})
		if err != nil {
			t.Fatal(err)
		}
		runCtx, stop := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() {
			defer close(done)
			if err := m.Run(runCtx); err != nil && err != context.Canceled {
				t.Errorf("manager %d: %v", p, err)
			}
		}()
		t.Cleanup(func() {
			cctx, c := context.WithTimeout(context.Background(), 5*time.Second)
			defer c()
			m.Close(cctx, true)
			stop()
			<-done
		})
	}
	seen := map[int]bool{}
	for len(seen) < shards {
		select {
		case id := <-readyCh:
			seen[id] = true
		case <-ctx.Done():
			t.Fatalf("READY from %d of %d shards", len(seen), shards)
		}
	}

	last := map[int]time.Time{}
	n := 0
	for _, r := range g.Received() {
		if r.Op != 2 {
			continue
		}
		n++
		var d struct{ Shard [2]int }
		if err := json.Unmarshal(r.Data, &d); err != nil {
			t.Fatal(err)
		}
		b := d.Shard[0] % mc
		if prev, ok := last[b]; ok {
			if gap := r.At.Sub(prev); gap < 5*time.Second {
				t.Fatalf("bucket %d: IDENTIFYs %v apart on the fake's clock, want ≥ 5s", b, gap)
			}
		}
		last[b] = r.At
	}
	if n != shards {
		t.Fatalf("%d IDENTIFYs, want %d (one per shard, none refused)", n, shards)
	}
}
