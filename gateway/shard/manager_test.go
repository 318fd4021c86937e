package shard_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
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
// identify bucket by bucket in shard order, exactly 5 s apart in a bucket
// (on a fake clock the Manager hands to its shards and its LocalLimiter,
// and the fake gateway enforces the same rule on), and all get READY on
// their first IDENTIFY.
func TestManagerIdentifyBuckets(t *testing.T) {
	leaktest.Check(t)
	const shards, mc = 16, 4
	clock := newFakeClock()
	start := clock.Now()
	srv, err := discordtest.NewServer(&discordtest.ServerOptions{Token: "token"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	g := startGateway(t, discordInterval, func(g *discordtest.Gateway) {
		g.Shards, g.MaxConcurrency, g.SessionStarts = shards, mc, srv
		g.Now = clock.Now
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
	tmpl.Clock = clock
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
	})
	if err != nil {
		t.Fatal(err)
	}
	runErr := make(chan error, 1)
	go func() { runErr <- m.Run(context.Background()) }()
	t.Cleanup(func() {
		if err := m.Close(ctxT(t, 5*time.Second), true); err != nil {
			t.Error(err)
		}
		if err := <-runErr; err != nil {
			t.Errorf("Run = %v", err)
		}
	})
	timeout := time.After(10 * time.Second)
	for round := range shards / mc {
		// One IDENTIFY per bucket at start + 5 s × round, all READY.
		for range mc {
			select {
			case <-readyCh:
			case <-timeout:
				mu.Lock()
				got := fmt.Sprint(ready)
				mu.Unlock()
				t.Fatalf("round %d: not every shard got READY: %v", round, got)
			}
		}
		if round == shards/mc-1 {
			break
		}
		// The next shard of each bucket waits in the LocalLimiter for
		// exactly 5 s after the last IDENTIFY; nothing else is due then.
		next := start.Add(time.Duration(round+1) * shard.DefaultIdentifyInterval)
		clock.waitFor(t, 5*time.Second, "the next round's identify waits", func(ats []time.Time) bool {
			n := 0
			for _, at := range ats {
				if at.Equal(next) {
					n++
				}
			}
			return n == mc
		})
		clock.AdvanceTo(t, next)
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
			if gap := r.At.Sub(prev.At); gap != 5*time.Second {
				t.Fatalf("bucket %d: IDENTIFYs %v apart (fake clock), want 5s", b, gap)
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

// With one session start left for two shards, the second is refused its
// IDENTIFY (the budget guard never spends a start that is not there) and
// tries again later, instead of getting the token reset.
func TestManagerRespectsDailyBudget(t *testing.T) {
	leaktest.Check(t)
	g := startGateway(t, 100*time.Millisecond, func(g *discordtest.Gateway) { g.Shards, g.MaxConcurrency = 2, 2 })
	srv, err := discordtest.NewServer(&discordtest.ServerOptions{Token: "token", GatewayBot: discord.GatewayBot{
		URL: g.URL(), Shards: 2,
		SessionStartLimit: discord.SessionStartLimit{Total: 1000, Remaining: 1, ResetAfter: 3600000, MaxConcurrency: 2},
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	rec := newRecorder()
	tmpl := shardConfig(g, rec)
	tmpl.Gateway.URL, tmpl.Identify = "", nil
	m, err := shard.NewManager(shard.ManagerConfig{Shard: tmpl, REST: &rest.Client{Token: "token", BaseURL: srv.URL}})
	if err != nil {
		t.Fatal(err)
	}
	runErr := make(chan error, 1)
	go func() { runErr <- m.Run(context.Background()) }()
	t.Cleanup(func() {
		if err := m.Close(ctxT(t, 5*time.Second), false); err != nil {
			t.Error(err)
		}
		if err := <-runErr; err != nil {
			t.Errorf("Run = %v", err)
		}
	})
	e := &env{g: g, rec: rec}
	e.waitReady(t)
	// The other shard is refused, with the typed error, and retries.
	poll(t, 5*time.Second, "the second shard refused", func() bool {
		for _, st := range m.Status() {
			var be *shard.IdentifyBudgetError
			if errors.As(st.LastError, &be) && be.Remaining == 0 {
				return true
			}
		}
		return false
	})
	if idents := identifies(g); idents != 1 {
		t.Fatalf("%d IDENTIFYs with a budget of 1", idents)
	}
	st := m.Status()
	if st[0].State == st[1].State || (st[0].State != shard.StateReady && st[1].State != shard.StateReady) {
		t.Fatalf("states %v and %v, want one ready and one refused", st[0].State, st[1].State)
	}
}

// A bad token closes with 4004: the Manager stops every shard and returns
// the typed fatal error.
func TestManagerStopsOnFatalClose(t *testing.T) {
	leaktest.Check(t)
	g := startGateway(t, 100*time.Millisecond, func(g *discordtest.Gateway) {
		g.Token, g.Shards, g.MaxConcurrency = "right", 2, 2
	})
	tmpl := shardConfig(g, newRecorder())
	tmpl.Identify = nil
	m, err := shard.NewManager(shard.ManagerConfig{Shard: tmpl, ShardCount: 2, MaxConcurrency: 2})
	if err != nil {
		t.Fatal(err)
	}
	err = m.Run(ctxT(t, 5*time.Second))
	var ce *shard.CloseError
	if !errors.As(err, &ce) || ce.Code != gateway.CloseAuthenticationFailed || !errors.Is(err, shard.ErrFatal) {
		t.Fatalf("Run = %v, want a 4004 *shard.CloseError", err)
	}
	for _, st := range m.Status() {
		if st.State != shard.StateStopped {
			t.Fatalf("shard %d %v after a fatal error", st.ID, st.State)
		}
	}
	if _, err := shard.NewManager(shard.ManagerConfig{Shard: tmpl}); !errors.Is(err, shard.ErrConfig) {
		t.Fatalf("NewManager without REST or shard count = %v", err)
	}
}

// Close(false) keeps every session; a new Manager given Sessions resumes
// them all without a single IDENTIFY.
func TestManagerHandsOverSessions(t *testing.T) {
	leaktest.Check(t)
	g := startGateway(t, 100*time.Millisecond, func(g *discordtest.Gateway) { g.Shards, g.MaxConcurrency = 2, 2 })
	ready := make(chan string, 8)
	tmpl := shardConfig(g, newRecorder())
	tmpl.Identify = nil
	tmpl.Handler = func(ctx context.Context, ev shard.Event) {
		if ev.Name == "READY" || ev.Name == "RESUMED" {
			ready <- ev.Name
		}
	}
	run := func(sessions map[int]gateway.Session) *shard.Manager {
		m, err := shard.NewManager(shard.ManagerConfig{Shard: tmpl, ShardCount: 2, MaxConcurrency: 2, Sessions: sessions})
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- m.Run(context.Background()) }()
		t.Cleanup(func() {
			m.Close(ctxT(t, 5*time.Second), true)
			<-done
		})
		return m
	}
	m1 := run(nil)
	for range 2 {
		if name := <-ready; name != "READY" {
			t.Fatalf("first run got %s", name)
		}
	}
	if err := m1.Close(ctxT(t, 5*time.Second), false); err != nil {
		t.Fatal(err)
	}
	sessions := m1.Sessions()
	if len(sessions) != 2 {
		t.Fatalf("%d sessions exported, want 2", len(sessions))
	}
	run(sessions)
	for range 2 {
		if name := <-ready; name != "RESUMED" {
			t.Fatalf("second run got %s, want RESUMED", name)
		}
	}
	if idents := identifies(g); idents != 2 {
		t.Fatalf("%d IDENTIFYs in all, want the first run's 2", idents)
	}
}
