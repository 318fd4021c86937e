package shard_test

import (
	"testing"
	"time"

	"github.com/ipcord/ipcord/discordtest"
	"github.com/ipcord/ipcord/gateway/shard"
	"github.com/ipcord/ipcord/internal/leaktest"
)

// connsSince counts the connections the fake accepted after the first
// skip ones.
func connsSince(g *discordtest.Gateway, skip int) int { return len(g.Connections()) - skip }

// A network that drops every connection right after READY or RESUMED,
// with the default Backoff: the shard waits at least a second between
// attempts, and longer each time, instead of reconnecting in a loop.
func TestFlappingNoStorm(t *testing.T) {
	leaktest.Check(t)
	g := startGateway(t, discordInterval, nil)
	g.Flap(time.Hour)
	e := startShard(t, g, func(c *shard.Config) {
		c.Backoff = shard.Backoff{}
		c.Rand = func() float64 { return 0.5 }
	})
	e.waitReady(t)
	const window = 3 * time.Second
	start := time.Now()
	time.Sleep(window)
	n := connsSince(g, 0)
	rate := float64(n) / time.Since(start).Seconds()
	t.Logf("%d connections in %v of flapping: %.1f/s", n, time.Since(start).Round(time.Millisecond), rate)
	// t=0 READY, then 1 s, then 1.5 s: three connections at most, and a
	// fourth if the machine is slow to measure the window.
	if n > 4 {
		t.Fatalf("%d connections in %v against a flapping network, want at most 4 (backoff ≥ 1 s, growing)", n, window)
	}
	if n < 2 {
		t.Fatalf("%d connections: the shard stopped reconnecting", n)
	}
	if st := e.s.Status(); st.Resumes == 0 || st.Identifies != 1 {
		t.Fatalf("status %+v: want one IDENTIFY and RESUMEs after it", st)
	}
}

// On the fake clock: under flapping each attempt waits max(3/4 of the
// doubling delay, 1 s) (Rand 0.5), up to Max; once the network is stable,
// a connection that lasted a minute lets the next one go at once.
func TestClockFlappingPaced(t *testing.T) {
	leaktest.Check(t)
	clock := newFakeClock()
	start := clock.Now()
	g := startGateway(t, discordInterval, func(g *discordtest.Gateway) { g.Now = clock.Now })
	g.Flap(time.Hour)
	e := startShard(t, g, func(c *shard.Config) {
		c.Clock = clock
		c.Identify = &shard.LocalLimiter{Clock: clock}
		c.Backoff = shard.Backoff{Max: 16 * time.Second}
		c.Rand = func() float64 { return 0.5 }
	})
	e.waitReady(t)
	waits := []time.Duration{time.Second, 1500 * time.Millisecond, 3 * time.Second, 6 * time.Second, 12 * time.Second, 12 * time.Second, 12 * time.Second}
	at := start
	for i, w := range waits {
		at = at.Add(w)
		clock.BlockUntilTimerAt(t, at)
		if n := connsSince(g, 0); n != i+1 {
			t.Fatalf("before attempt %d: %d connections, want %d", i+2, n, i+1)
		}
		if i == len(waits)-1 {
			g.Flap(0)
		}
		clock.AdvanceTo(t, at)
	}
	e.rec.wait(t, 5*time.Second, "a RESUMED that stays", func(evs []shard.Event) bool { return count(evs, "RESUMED") == len(waits) })
	n := connsSince(g, 0)
	// A minute later the connection drops: it was stable, so the next
	// attempt goes at once, without the backoff of the flapping.
	clock.Advance(time.Minute)
	if err := g.CloseShard(0, 4000, "gateway restart"); err != nil {
		t.Fatal(err)
	}
	e.rec.wait(t, 5*time.Second, "a RESUMED at once", func(evs []shard.Event) bool { return count(evs, "RESUMED") == len(waits)+1 })
	if got := connsSince(g, 0); got != n+1 {
		t.Fatalf("%d connections, want %d", got, n+1)
	}
}

// Shards sharing a ConnectLimit dial no faster than it allows together,
// whatever their own backoff: three shards with a 1 ms backoff against a
// flapping network, a limit of 3 at once then 60 a minute.
func TestConnectLimitShared(t *testing.T) {
	leaktest.Check(t)
	g := startGateway(t, discordInterval, func(g *discordtest.Gateway) { g.Shards = 3; g.MaxConcurrency = 3 })
	limit := &shard.ConnectLimit{PerMinute: 60, Burst: 3}
	var envs []*env
	for id := range 3 {
		envs = append(envs, startShard(t, g, func(c *shard.Config) {
			c.Gateway.ShardID, c.Gateway.ShardCount = id, 3
			c.Identify = &shard.LocalLimiter{MaxConcurrency: 3, Interval: time.Millisecond}
			c.Backoff = shard.Backoff{Base: time.Millisecond, Max: time.Millisecond, Min: time.Millisecond}
			c.Connects = limit
		}))
	}
	for _, e := range envs {
		e.waitReady(t)
	}
	g.Flap(time.Hour)
	skip := connsSince(g, 0)
	const window = 2 * time.Second
	start := time.Now()
	for id := range 3 {
		if err := g.CloseShard(id, 4000, "flap"); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(window)
	n := connsSince(g, skip)
	t.Logf("%d connections in %v by 3 shards sharing 60/min", n, time.Since(start).Round(time.Millisecond))
	// At one a second, the 2 s window allows 2 or 3 (and one more for
	// measuring late).
	if n > 4 {
		t.Fatalf("%d connections in %v, want at most 4 (the shared limit of 1/s)", n, window)
	}
}
