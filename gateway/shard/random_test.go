package shard_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/ipcord/ipcord/discordtest"
	"github.com/ipcord/ipcord/gateway"
	"github.com/ipcord/ipcord/gateway/shard"
	"github.com/ipcord/ipcord/internal/leaktest"
)

// randomFault injects one fault the shard must survive; identify reports
// whether it ends the session (so events dispatched meanwhile may be lost).
type randomFault struct {
	name     string
	identify bool
	needComp bool
	inject   func(g *discordtest.Gateway) error
}

var randomFaults = []randomFault{
	{name: "close 4000", inject: func(g *discordtest.Gateway) error { return g.CloseShard(0, 4000, "r") }},
	{name: "close 4001", inject: func(g *discordtest.Gateway) error { return g.CloseShard(0, 4001, "r") }},
	{name: "close 4002", inject: func(g *discordtest.Gateway) error { return g.CloseShard(0, 4002, "r") }},
	{name: "close 4008", inject: func(g *discordtest.Gateway) error { return g.CloseShard(0, 4008, "r") }},
	{name: "close 4007", identify: true, inject: func(g *discordtest.Gateway) error { return g.CloseShard(0, 4007, "r") }},
	{name: "close 4009", identify: true, inject: func(g *discordtest.Gateway) error { return g.CloseShard(0, 4009, "r") }},
	{name: "op 7", inject: func(g *discordtest.Gateway) error { return g.SendReconnect(0) }},
	{name: "op 9 true", inject: func(g *discordtest.Gateway) error { return g.SendInvalidSession(0, true) }},
	{name: "op 9 false", identify: true, inject: func(g *discordtest.Gateway) error { return g.SendInvalidSession(0, false) }},
	{name: "op 1", inject: func(g *discordtest.Gateway) error { return g.RequestHeartbeat(0) }},
	{name: "cut", inject: func(g *discordtest.Gateway) error { return g.CutMidFrame(0) }},
	{name: "corrupt", needComp: true, inject: func(g *discordtest.Gateway) error { return g.CorruptStream(0) }},
	{name: "no acks", inject: func(g *discordtest.Gateway) error { return g.StopHeartbeatACKs(0) }},
	{name: "delay", inject: func(g *discordtest.Gateway) error { return g.DelayFrames(0, 10*time.Millisecond) }},
	{name: "long delay", inject: func(g *discordtest.Gateway) error { return g.DelayFrames(0, 150*time.Millisecond) }},
	{name: "op 7 before hello", inject: func(g *discordtest.Gateway) error {
		g.ReconnectBeforeHello(1)
		return g.CloseShard(0, 4000, "r")
	}},
}

// 100 seeded sequences of faults over a stream of dispatches: whenever
// the session could be resumed, no dispatch is lost or seen twice, and
// each sequence is over within a second of the shard's clock (a
// runningClock: the machine's load does not count against it).
func TestRandomFaults(t *testing.T) {
	leaktest.Check(t)
	seeds := 100
	if testing.Short() {
		seeds = 20
	}
	for seed := range seeds {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			t.Parallel()
			clock := newRunningClock(t)
			start := clock.Now()
			log := runRandom(t, clock, uint64(seed))
			if took := clock.Since(start); took > time.Second {
				t.Errorf("seed %d took %v, want ≤ 1s; faults: %v", seed, took, log)
			}
		})
	}
}

func runRandom(t *testing.T, clock *fakeClock, seed uint64) []string {
	rnd := rand.New(rand.NewPCG(seed, 0x1badcafe))
	comp := gateway.Compression(rnd.IntN(3))
	g, e := startOnClock(t, clock, 40*time.Millisecond, func(c *shard.Config) {
		c.Gateway.Compression = comp
		c.QueueEvents = 1 + rnd.IntN(8)                 // small queues pause often
		c.Rand = rand.New(rand.NewPCG(seed, 2)).Float64 // the shard's own: it runs on another goroutine
	})
	var log []string
	defer func() {
		if t.Failed() {
			t.Logf("seed %d, %s: %v", seed, comp, log)
		}
	}()
	e.waitReady(t)
	for range 2 + rnd.IntN(3) {
		n := rnd.IntN(20)
		e.dispatch(n)
		f := randomFaults[rnd.IntN(len(randomFaults))]
		if f.needComp && comp == gateway.CompressNone {
			f = randomFaults[0]
		}
		// Faults aim at a live connection: wait for the shard to be back.
		if _, err := g.WaitSession(ctxT(t, patience), 0); err != nil {
			t.Fatalf("no live session: %v", err)
		}
		err := f.inject(g)
		if errors.Is(err, discordtest.ErrNoConnection) {
			err = nil // the connection was already going: the fault hit nothing
		}
		if err != nil {
			t.Fatalf("%s: %v", f.name, err)
		}
		log = append(log, fmt.Sprintf("%d+%s", n, f.name))
		e.dispatch(rnd.IntN(10))
	}
	e.dispatch(1)
	if _, err := g.WaitSession(ctxT(t, patience), 0); err != nil {
		t.Fatalf("no live session at the end: %v", err)
	}
	e.waitCaughtUp(t, patience)
	checkSeqs(t, e.rec.snapshot())
	return log
}
