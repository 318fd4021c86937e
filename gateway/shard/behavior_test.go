package shard_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ipcord/ipcord/discordtest"
	"github.com/ipcord/ipcord/gateway"
	"github.com/ipcord/ipcord/gateway/shard"
	"github.com/ipcord/ipcord/internal/leaktest"
	"github.com/ipcord/ipcord/internal/wsproto"
)

// poll waits until cond is true, checking every few milliseconds, or fails t.
func poll(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		<-tick.C
	}
}

// A handler that blocks fills the queue: reading pauses, heartbeats go on,
// and the connection is never judged dead for it.
func TestSlowHandlerNeverReconnects(t *testing.T) {
	leaktest.Check(t)
	const interval = 100 * time.Millisecond
	g := startGateway(t, interval, nil)
	e := startShard(t, g, func(c *shard.Config) { c.QueueEvents = 4 })
	e.waitReady(t)
	block := make(chan struct{})
	e.rec.mu.Lock()
	e.rec.block = block
	e.rec.mu.Unlock()
	e.dispatch(200)
	poll(t, 2*time.Second, "a pause", func() bool { return e.s.Status().Pauses > 0 })
	conn := g.Connections()[0].Num
	// Five heartbeats while paused: five intervals without reading the
	// socket, well past the zombie verdict if it were not suspended.
	since := g.Now()
	for range 5 {
		r, err := g.WaitReceived(ctxT(t, 3*time.Second), func(r discordtest.Received) bool {
			return r.Op == 1 && r.Conn == conn && r.At.After(since)
		})
		if err != nil {
			t.Fatal(err)
		}
		since = r.At
	}
	if st := e.s.Status(); st.Queued != 4 || st.State != shard.StateReady {
		t.Fatalf("while paused: status %+v, want 4 queued and ready", st)
	}
	close(block)
	e.waitCaughtUp(t, 5*time.Second)
	checkSeqs(t, e.rec.snapshot())
	if n := len(g.Connections()); n != 1 {
		t.Fatalf("%d connections, want 1", n)
	}
	if st := e.s.Status(); st.Reconnects != 0 || st.Pauses == 0 {
		t.Fatalf("status %+v", st)
	}
}

func TestSendLimitKeepsRoomForHeartbeats(t *testing.T) {
	leaktest.Check(t)
	g := startGateway(t, 150*time.Millisecond, nil)
	e := startShard(t, g, nil)
	e.waitReady(t)
	ctx := ctxT(t, 5*time.Second)
	sent := 0
	for {
		sctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		err := e.s.UpdatePresence(sctx, gateway.Presence{Status: "online"})
		cancel()
		if errors.Is(err, context.DeadlineExceeded) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		sent++
		if sent > 120 {
			t.Fatal("more than 120 payloads allowed in a minute")
		}
	}
	// At this interval the reserve is capped at half the limit; IDENTIFY
	// and the heartbeats so far take their share of the other half.
	var others int
	for _, r := range g.Received() {
		if r.Op != 3 {
			others++
		}
	}
	if sent < 55 || sent+others > 60+5 {
		t.Fatalf("%d presence updates (and %d other payloads) went out before waiting, want 60 in all", sent, others)
	}
	if _, err := g.WaitReceived(ctxT(t, time.Second), func(r discordtest.Received) bool { return r.Op == 1 }); err != nil {
		t.Fatal(err)
	}
	for _, ci := range g.Connections() {
		if ci.ServerClose != 0 {
			t.Fatalf("gateway closed connection %d with %d", ci.Num, ci.ServerClose)
		}
	}
}

func TestSendRefusesLargePayload(t *testing.T) {
	leaktest.Check(t)
	g := startGateway(t, 150*time.Millisecond, nil)
	e := startShard(t, g, nil)
	e.waitReady(t)
	big := json.RawMessage(`"` + strings.Repeat("x", 5000) + `"`)
	err := e.s.Send(ctxT(t, time.Second), gateway.OpPresenceUpdate, big)
	var pe *gateway.PayloadTooLargeError
	if !errors.As(err, &pe) || !errors.Is(err, gateway.ErrPayloadTooLarge) || pe.Size <= gateway.MaxPayload {
		t.Fatalf("Send = %v, want *gateway.PayloadTooLargeError", err)
	}
	for _, r := range g.Received() {
		if r.Op == 3 {
			t.Fatal("the payload reached the gateway")
		}
	}
}

func TestRequestMembers(t *testing.T) {
	leaktest.Check(t)
	const guild = 81384788765712384
	g := startGateway(t, 150*time.Millisecond, func(g *discordtest.Gateway) {
		g.Guilds = []json.RawMessage{json.RawMessage(`{"id":"81384788765712384","name":"g"}`)}
		g.Members = map[uint64][]json.RawMessage{guild: {
			json.RawMessage(`{"user":{"id":"1","username":"alice"},"roles":[]}`),
			json.RawMessage(`{"user":{"id":"2","username":"bob"},"roles":[]}`),
		}}
	})
	e := startShard(t, g, nil)
	e.waitReady(t)
	ctx := ctxT(t, 5*time.Second)
	all := ""
	m, err := e.s.RequestMembers(ctx, gateway.RequestGuildMembers{GuildID: "81384788765712384", Query: &all})
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Members) != 2 || m.GuildID != "81384788765712384" {
		t.Fatalf("members %+v", m)
	}
	m, err = e.s.RequestMembers(ctx, gateway.RequestGuildMembers{GuildID: "81384788765712384", UserIDs: []string{"2", "3"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Members) != 1 || len(m.NotFound) != 1 || m.NotFound[0] != "3" {
		t.Fatalf("members %+v", m)
	}
	// A second request for all members within 30 s is rate limited.
	_, err = e.s.RequestMembers(ctx, gateway.RequestGuildMembers{GuildID: "81384788765712384", Query: &all})
	var rl *shard.RateLimitedError
	if !errors.As(err, &rl) || !errors.Is(err, shard.ErrRateLimited) || rl.RetryAfter <= 0 || rl.Opcode != gateway.OpRequestGuildMembers {
		t.Fatalf("second request: %v, want *shard.RateLimitedError", err)
	}
}

// Close(false) keeps the session; a new Shard resumes it from the last
// handled event and misses nothing dispatched in between.
func TestCloseKeepsSessionForResume(t *testing.T) {
	leaktest.Check(t)
	g := startGateway(t, 150*time.Millisecond, nil)
	e := startShard(t, g, nil)
	e.waitReady(t)
	e.dispatch(5)
	e.waitCaughtUp(t, 2*time.Second)
	if err := e.s.Close(ctxT(t, 2*time.Second), false); err != nil {
		t.Fatal(err)
	}
	if err := e.runErr(t, time.Second); err != nil {
		t.Fatalf("Run after Close = %v", err)
	}
	sess := e.s.Session()
	if !sess.Valid() || sess.Seq != 6 {
		t.Fatalf("exported session %+v, want seq 6", sess)
	}
	poll(t, time.Second, "the close code", func() bool { return g.Connections()[0].ClientClose != 0 })
	if cc := g.Connections()[0].ClientClose; cc != 4000 {
		t.Fatalf("closed with %d, want 4000", cc)
	}
	e.dispatch(3) // kept by the fake for the RESUME
	b, _ := sess.MarshalBinary()
	var restored gateway.Session
	if err := restored.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	e2 := startShard(t, g, func(c *shard.Config) { c.Session = restored })
	e2.rec.wait(t, 2*time.Second, "RESUMED", func(evs []shard.Event) bool { return count(evs, "RESUMED") == 1 })
	evs := e2.rec.snapshot()
	if count(evs, "READY") != 0 || len(evs) != 4 || evs[0].Seq != 7 || evs[3].Name != "RESUMED" {
		t.Fatalf("after restore: %s", summary(evs))
	}
}

func TestCloseEndsSession(t *testing.T) {
	leaktest.Check(t)
	g := startGateway(t, 150*time.Millisecond, nil)
	e := startShard(t, g, nil)
	e.waitReady(t)
	if err := e.s.Close(ctxT(t, 2*time.Second), true); err != nil {
		t.Fatal(err)
	}
	poll(t, time.Second, "the close code", func() bool { return g.Connections()[0].ClientClose != 0 })
	if cc := g.Connections()[0].ClientClose; cc != 1000 {
		t.Fatalf("closed with %d, want 1000", cc)
	}
	if e.s.Session().Valid() {
		t.Fatal("session still exported after ending it")
	}
	if _, ok := g.Session(0); ok {
		t.Fatal("the gateway kept the session")
	}
	if err := e.s.Send(ctxT(t, time.Second), gateway.OpPresenceUpdate, nil); !errors.Is(err, shard.ErrNotRunning) {
		t.Fatalf("Send after Close = %v", err)
	}
}

func TestStopsAfterThreeDecompressFailures(t *testing.T) {
	leaktest.Check(t)
	var conns atomic.Int32
	// Every connection gets a compressed message no inflater can read.
	url := rawServer(t, &conns, wsproto.AppendFrame(nil, wsproto.Server, wsproto.OpBinary, true, false, [4]byte{},
		[]byte{0x07, 0xff, 0xff, 0xff, 0x00, 0x00, 0xff, 0xff}))
	rec := newRecorder()
	cfg := shard.Config{
		Gateway: gateway.Config{Token: "t", URL: url, Compression: gateway.CompressZlib},
		Handler: rec.handle, Backoff: shard.Backoff{Base: 10 * time.Millisecond, Min: time.Millisecond},
	}
	s, err := shard.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	err = s.Run(ctxT(t, 5*time.Second))
	if !errors.Is(err, shard.ErrDecompressFailures) || !errors.Is(err, shard.ErrFatal) {
		t.Fatalf("Run = %v, want ErrDecompressFailures", err)
	}
	if n := conns.Load(); n != 3 {
		t.Fatalf("%d connections, want 3", n)
	}
}

func gatewayConfig(url string) gateway.Config {
	return gateway.Config{Token: "t", URL: url, MinHeartbeatInterval: time.Millisecond}
}

// The connection fails while reading is paused: the event that did not
// fit the queue is carried to the next connection, which waits for room
// before HELLO and then resumes from that event; nothing is lost or
// repeated.
func TestConnectionLostWhilePaused(t *testing.T) {
	leaktest.Check(t)
	g := startGateway(t, 100*time.Millisecond, nil)
	e := startShard(t, g, func(c *shard.Config) { c.QueueEvents = 2 })
	e.waitReady(t)
	block := make(chan struct{})
	e.rec.mu.Lock()
	e.rec.block = block
	e.rec.mu.Unlock()
	e.dispatch(30)
	poll(t, 2*time.Second, "a pause", func() bool { return e.s.Status().Pauses > 0 })
	if err := g.CutMidFrame(0); err != nil {
		t.Fatal(err)
	}
	poll(t, 5*time.Second, "a second connection", func() bool { return len(g.Connections()) >= 2 })
	e.dispatch(5)
	close(block)
	e.rec.wait(t, 5*time.Second, "RESUMED", func(evs []shard.Event) bool { return count(evs, "RESUMED") == 1 })
	e.waitCaughtUp(t, 2*time.Second)
	evs := e.rec.snapshot()
	checkSeqs(t, evs)
	if count(evs, "READY") != 1 {
		t.Fatalf("re-identified: %s", summary(evs))
	}
}

// A gateway whose HELLO asks for a 1 ms heartbeat gets heartbeats no
// faster than the floor, not a thousand a second.
func TestHeartbeatFloorAgainstFake(t *testing.T) {
	leaktest.Check(t)
	const floor = 100 * time.Millisecond
	g := startGateway(t, time.Millisecond, nil)
	e := startShard(t, g, func(c *shard.Config) { c.Gateway.MinHeartbeatInterval = floor })
	e.waitReady(t)
	start := time.Now()
	time.Sleep(time.Second)
	beats := 0
	for _, r := range g.Received() {
		if r.Op == int(gateway.OpHeartbeat) {
			beats++
		}
	}
	// READY came after at most a few ms; allow the beats up to now.
	if max := int(time.Since(start)/floor) + 3; beats > max {
		t.Fatalf("%d heartbeats in %v against a 1 ms HELLO, want at most %d (one per %v)", beats, time.Since(start), max, floor)
	}
	if beats == 0 {
		t.Fatal("no heartbeat at all")
	}
}
