package shard_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/ipcord/ipcord/discordtest"
	"github.com/ipcord/ipcord/gateway"
	"github.com/ipcord/ipcord/gateway/shard"
	"github.com/ipcord/ipcord/internal/leaktest"
)

// soakFor is how long the soak injects faults; its checks take a few
// seconds more.
const soakFor = 12 * time.Second

// soakFault is a fault for one shard (or, for the network's, all).
type soakFault struct {
	name   string
	comp   bool // needs a compressed stream
	inject func(g *discordtest.Gateway, id int) error
}

// The fake's clock runs timeScale times faster than real time: Flap and
// RefuseConnections take its durations.
var soakFaults = []soakFault{
	{name: "close 4000", inject: func(g *discordtest.Gateway, id int) error { return g.CloseShard(id, 4000, "soak") }},
	{name: "close 1001", inject: func(g *discordtest.Gateway, id int) error { return g.CloseShard(id, 1001, "soak") }},
	{name: "close 4009", inject: func(g *discordtest.Gateway, id int) error { return g.CloseShard(id, 4009, "soak") }},
	{name: "op 7", inject: func(g *discordtest.Gateway, id int) error { return g.SendReconnect(id) }},
	{name: "op 9 true", inject: func(g *discordtest.Gateway, id int) error { return g.SendInvalidSession(id, true) }},
	{name: "op 9 false", inject: func(g *discordtest.Gateway, id int) error { return g.SendInvalidSession(id, false) }},
	{name: "op 1", inject: func(g *discordtest.Gateway, id int) error { return g.RequestHeartbeat(id) }},
	{name: "cut", inject: func(g *discordtest.Gateway, id int) error { return g.CutMidFrame(id) }},
	{name: "corrupt", comp: true, inject: func(g *discordtest.Gateway, id int) error { return g.CorruptStream(id) }},
	{name: "no acks", inject: func(g *discordtest.Gateway, id int) error { return g.StopHeartbeatACKs(id) }},
	{name: "delay", inject: func(g *discordtest.Gateway, id int) error { return g.DelayFrames(id, 150*time.Millisecond) }},
	{name: "flap", inject: func(g *discordtest.Gateway, id int) error { g.Flap(40 * time.Second); return nil }},
	{name: "refuse", inject: func(g *discordtest.Gateway, id int) error { g.RefuseConnections(30 * time.Second); return nil }},
	{name: "op 7 before hello", inject: func(g *discordtest.Gateway, id int) error {
		g.ReconnectBeforeHello(1)
		return g.CloseShard(id, 4000, "soak")
	}},
}

// byShard is a Handler that keeps each shard's events.
type byShard struct {
	mu   sync.Mutex
	evs  map[int][]shard.Event
	last map[int]int64
}

func (b *byShard) handle(ctx context.Context, ev shard.Event) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.evs[ev.Shard] = append(b.evs[ev.Shard], ev)
	b.last[ev.Shard] = ev.Seq
}

func (b *byShard) lastSeq(id int) int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.last[id]
}

// openFDs is the number of file descriptors the process has open.
func openFDs(t testing.TB) int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// The shard half of the fault soak: a Manager's shards, with the default
// reconnect pacing, take random faults (closes, op 7 and 9, cuts, corrupt
// streams, zombies, delays, dropped sessions, a flapping network, refused
// connections) while events flow to them. Held: no dispatch is lost or
// seen twice while a session lives; no shard dials more than about once a
// second (no storm); every shard is caught up at the end; goroutines and
// file descriptors return to where they were.
func TestSoak(t *testing.T) {
	leaktest.Check(t)
	soak := soakFor
	if testing.Short() {
		soak = 3 * time.Second
	}
	fds := openFDs(t)
	const shards = 4
	seed := uint64(time.Now().UnixNano())
	rnd := rand.New(rand.NewPCG(seed, 13))
	comp := gateway.Compression(rnd.IntN(3))
	t.Logf("seed %d, %s", seed, comp)

	g := startGateway(t, 100*time.Millisecond, func(g *discordtest.Gateway) { g.Shards, g.MaxConcurrency = shards, shards })
	rec := &byShard{evs: map[int][]shard.Event{}, last: map[int]int64{}}
	tmpl := shardConfig(g, nil)
	tmpl.Handler = rec.handle
	tmpl.Gateway.Compression = comp
	tmpl.Identify = nil
	tmpl.QueueEvents = 64
	// The pacing under test: the defaults, a second at least between
	// attempts after a short-lived connection; a shorter Max so a shard
	// that met several faults in a row is back within the soak.
	tmpl.Backoff = shard.Backoff{Max: 4 * time.Second}
	m, err := shard.NewManager(shard.ManagerConfig{
		Shard: tmpl, ShardCount: shards, MaxConcurrency: shards,
		IdentifyInterval: 5 * time.Second / timeScale * 6 / 5,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	runErr := make(chan error, 1)
	go func() { runErr <- m.Run(ctx) }()
	for id := range shards {
		if _, err := g.WaitSession(ctxT(t, 10*time.Second), id); err != nil {
			t.Fatalf("shard %d never connected: %v", id, err)
		}
	}

	// Events flow throughout, to every shard; a shard without a session
	// misses them, as it would miss Discord's.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		r := rand.New(rand.NewPCG(seed, 1))
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(time.Millisecond):
			}
			g.Dispatch(r.IntN(shards), "MESSAGE_CREATE", map[string]any{"content": fmt.Sprint("m", i)})
		}
	}()
	// Connections per shard, sampled: the most any shard made in a
	// second of wall time.
	var stormMu sync.Mutex
	worst, worstAt := 0, ""
	go func() {
		defer wg.Done()
		type sample struct {
			at    time.Time
			conns [shards]int
		}
		var hist []sample
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case now := <-tick.C:
				var s sample
				s.at = now
				for i, st := range m.Status() {
					s.conns[i] = st.Connections
				}
				hist = append(hist, s)
				for len(hist) > 0 && now.Sub(hist[0].at) > time.Second {
					hist = hist[1:]
				}
				stormMu.Lock()
				for i := range shards {
					if d := s.conns[i] - hist[0].conns[i]; d > worst {
						worst, worstAt = d, fmt.Sprintf("shard %d at %v", i, now.Format("15:04:05.000"))
					}
				}
				stormMu.Unlock()
			}
		}
	}()

	var log []string
	end := time.Now().Add(soak)
	for time.Now().Before(end) {
		time.Sleep(time.Duration(50+rnd.IntN(250)) * time.Millisecond)
		f := soakFaults[rnd.IntN(len(soakFaults))]
		if f.comp && comp == gateway.CompressNone {
			continue
		}
		id := rnd.IntN(shards)
		err := f.inject(g, id)
		if errors.Is(err, discordtest.ErrNoConnection) || errors.Is(err, discordtest.ErrNoSession) {
			continue // the shard was between connections: the fault hit nothing
		}
		if err != nil {
			t.Fatalf("%s on shard %d: %v", f.name, id, err)
		}
		log = append(log, fmt.Sprintf("%s@%d", f.name, id))
	}
	close(stop)
	wg.Wait()
	g.Flap(0)
	g.RefuseConnections(0)
	t.Logf("%d faults: %v", len(log), log)

	// Every shard comes back and catches up with its session. A session
	// can still end meanwhile (the fake's clock runs 100 times faster, so a
	// shard that was away for long finds it expired and identifies anew):
	// then the last dispatch went to the old one, and is sent again.
	for id := range shards {
		deadline := time.Now().Add(20 * time.Second)
		for caught := false; !caught; {
			si, err := g.WaitSession(ctxT(t, 15*time.Second), id)
			if err != nil {
				t.Fatalf("shard %d did not come back: %v; status %+v", id, err, m.Status()[id])
			}
			seq, err := g.Dispatch(id, "LAST", nil)
			if err != nil {
				continue // the session ended just now
			}
			for !caught {
				if time.Now().After(deadline) {
					t.Fatalf("shard %d handled up to %d, not %d; status %+v; faults %v",
						id, rec.lastSeq(id), seq, m.Status()[id], log)
				}
				if now, ok := g.Session(id); !ok || now.ID != si.ID {
					break // a new session: dispatch again
				}
				caught = rec.lastSeq(id) >= seq
				time.Sleep(5 * time.Millisecond)
			}
		}
	}
	rec.mu.Lock()
	total := 0
	for id := range shards {
		total += len(rec.evs[id])
		if err := seqError(rec.evs[id]); err != nil {
			rec.mu.Unlock()
			t.Fatalf("shard %d: %v; faults %v", id, err, log)
		}
	}
	rec.mu.Unlock()
	stormMu.Lock()
	t.Logf("%d events handled; at most %d connections by one shard in a second (%s)", total, worst, worstAt)
	// One attempt a second at most after a short-lived connection; two
	// allow for a sample taken just as one second's attempt and the next
	// fall in the same window.
	if worst > 2 {
		t.Errorf("%s made %d connections within a second: a reconnect storm", worstAt, worst)
	}
	stormMu.Unlock()

	if err := m.Close(ctxT(t, 10*time.Second), false); err != nil {
		t.Fatal(err)
	}
	if err := <-runErr; err != nil {
		t.Fatalf("Manager.Run = %v", err)
	}
	g.Close()
	poll(t, 5*time.Second, "file descriptors back to baseline", func() bool { return openFDs(t) <= fds })
}
