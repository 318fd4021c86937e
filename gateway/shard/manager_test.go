package shard_test

import (
	"context"
	"encoding/json"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/ipcord/ipcord/discord"
	"github.com/ipcord/ipcord/discordtest"
	"github.com/ipcord/ipcord/gateway"
	"github.com/ipcord/ipcord/gateway/shard"
	"github.com/ipcord/ipcord/internal/leaktest"
	"github.com/ipcord/ipcord/rest"
)

// 16 shards with max_concurrency 4: sized from Get Gateway Bot, they
// identify bucket by bucket in shard order, never two in a bucket within
// 5 s (by the fake's clock, which also enforces it), and all get READY on
// their first IDENTIFY.
func TestManagerIdentifyBuckets(t *testing.T) {
	leaktest.Check(t)
	const shards, mc = 16, 4
	srv, err := discordtest.NewServer(&discordtest.ServerOptions{Token: "token"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	g := startGateway(t, 200*time.Millisecond, func(g *discordtest.Gateway) {
		g.Shards, g.MaxConcurrency, g.SessionStarts = shards, mc, srv
	})
	srv2, err := discordtest.NewServer(&discordtest.ServerOptions{Token: "token", GatewayBot: discord.GatewayBot{
		URL: g.URL(), Shards: shards,
		SessionStartLimit: discord.SessionStartLimit{Total: 1000, Remaining: 1000, ResetAfter: 86400000, MaxConcurrency: mc},
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv2.Close() })

	var mu sync.Mutex
	ready := map[int]int{}
	got := map[int][]string{}
	readyCh := make(chan struct{}, shards)
	tmpl := shardConfig(g, newRecorder())
	tmpl.Gateway.URL = ""
	tmpl.Identify = nil
	tmpl.Handler = func(ctx context.Context, ev shard.Event) {
		mu.Lock()
		defer mu.Unlock()
		if ev.Name == "READY" {
			ready[ev.Shard]++
			readyCh <- struct{}{}
		}
		if ev.Name == "MESSAGE_CREATE" {
			got[ev.Shard] = append(got[ev.Shard], string(ev.Data))
		}
	}
	m, err := shard.NewManager(shard.ManagerConfig{
		Shard: tmpl, REST: &rest.Client{Token: "token", BaseURL: srv2.URL},
		IdentifyInterval: 5 * time.Second / timeScale * 6 / 5,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	runErr := make(chan error, 1)
	go func() { runErr <- m.Run(ctx) }()
	t.Cleanup(func() {
		if err := m.Close(ctxT(t, 5*time.Second), true); err != nil {
			t.Error(err)
		}
		if err := <-runErr; err != nil {
			t.Errorf("Run = %v", err)
		}
	})
	timeout := time.After(10 * time.Second)
	for range shards {
		select {
		case <-readyCh:
		case <-timeout:
			t.Fatalf("not every shard got READY: %v", ready)
		}
	}

	var idents []discordtest.Received
	for _, r := range g.Received() {
		if r.Op == 2 {
			idents = append(idents, r)
		}
	}
	if len(idents) != shards {
		t.Fatalf("%d IDENTIFYs, want %d (one per shard, none refused)", len(idents), shards)
	}
	shardOf := func(r discordtest.Received) int {
		var d struct{ Shard [2]int }
		json.Unmarshal(r.Data, &d)
		return d.Shard[0]
	}
	first := []int{}
	for _, r := range idents[:mc] {
		first = append(first, shardOf(r))
	}
	sort.Ints(first)
	if first[0] != 0 || first[mc-1] != mc-1 {
		t.Fatalf("first IDENTIFYs from shards %v, want 0..%d", first, mc-1)
	}
	last := map[int]discordtest.Received{}
	for _, r := range idents {
		id := shardOf(r)
		b := id % mc
		if prev, ok := last[b]; ok {
			if p := shardOf(prev); p != id-mc {
				t.Fatalf("bucket %d: shard %d identified after shard %d, want after %d", b, id, p, id-mc)
			}
			if gap := r.At.Sub(prev.At); gap < 5*time.Second {
				t.Fatalf("bucket %d: IDENTIFYs %v apart (fake clock), want ≥ 5s", b, gap)
			}
		} else if id != b {
			t.Fatalf("bucket %d started with shard %d", b, id)
		}
		last[b] = r
	}
	for id := range shards {
		if ready[id] != 1 {
			t.Fatalf("shard %d got %d READY", id, ready[id])
		}
	}
	// The daily budget was spent by the IDENTIFYs, on the fake's side.
	if rem := srv.GatewayBot().SessionStartLimit.Remaining; rem != 1000-shards {
		t.Fatalf("session starts remaining %d, want %d", rem, 1000-shards)
	}

	// Guild events reach the shard ShardFor names.
	const guild uint64 = 81384788765712384
	want := m.ShardFor(guild)
	if want != int((guild>>22)%shards) {
		t.Fatalf("ShardFor = %d", want)
	}
	sh, _, err := g.DispatchGuild(guild, "MESSAGE_CREATE", map[string]string{"content": "hi"})
	if err != nil || sh != want {
		t.Fatalf("DispatchGuild went to shard %d (%v), ShardFor says %d", sh, err, want)
	}
	poll(t, 2*time.Second, "the guild event", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got[want]) == 1
	})
	st := m.Status()
	if len(st) != shards {
		t.Fatalf("%d statuses", len(st))
	}
	for _, s := range st {
		if s.State != shard.StateReady || s.Identifies != 1 {
			t.Fatalf("shard %d status %+v", s.ID, s)
		}
	}
	if m.Shard(want) == nil || m.Shard(shards) != nil {
		t.Fatal("Shard lookup")
	}
	_ = gateway.IntentGuilds
}
