package shard_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ipcord/ipcord/discordtest"
	"github.com/ipcord/ipcord/gateway"
	"github.com/ipcord/ipcord/gateway/shard"
	"github.com/ipcord/ipcord/internal/leaktest"
)

// discordInterval is Discord's usual heartbeat interval. With the wall
// clock, the tests below would take minutes; on the fake clock they take
// milliseconds and see every deadline exactly.
const discordInterval = 41250 * time.Millisecond

// startFake starts a fake gateway and a shard that share clock.
func startFake(t *testing.T, clock *fakeClock, mod func(*shard.Config)) *env {
	t.Helper()
	g := startGateway(t, discordInterval, func(g *discordtest.Gateway) { g.Now = clock.Now })
	return startShard(t, g, func(c *shard.Config) {
		c.Clock = clock
		c.Identify = &shard.LocalLimiter{Clock: clock}
		if mod != nil {
			mod(c)
		}
	})
}

// heartbeats returns the heartbeats the fake received.
func heartbeats(g *discordtest.Gateway) []discordtest.Received {
	var out []discordtest.Received
	for _, r := range g.Received() {
		if r.Op == 1 {
			out = append(out, r)
		}
	}
	return out
}

// waitHeartbeats waits until the fake received n heartbeats.
func waitHeartbeats(t *testing.T, g *discordtest.Gateway, n int) []discordtest.Received {
	t.Helper()
	got := 0
	_, err := g.WaitReceived(ctxT(t, 5*time.Second), func(r discordtest.Received) bool {
		if r.Op == 1 {
			got++
		}
		return got >= n
	})
	if err != nil {
		t.Fatalf("waiting for heartbeat %d: %v (got %d); connections %+v", n, err, got, g.Connections())
	}
	return heartbeats(g)
}

// waitACKed makes sure the shard has read the ACK of the heartbeat the
// fake just recorded before the test moves the clock on (else the next
// beat rightly finds a zombie): the fake queues the ACK before it records
// the heartbeat, so a dispatch sent now arrives after it.
func (e *env) waitACKed(t *testing.T) {
	t.Helper()
	e.dispatch(1)
	e.waitCaughtUp(t, 5*time.Second)
}

// The first heartbeat goes out exactly interval × jitter after HELLO and
// the next ones every interval, by the clock the shard was given.
func TestClockHeartbeatCadence(t *testing.T) {
	leaktest.Check(t)
	clock := newFakeClock()
	start := clock.Now()
	e := startFake(t, clock, nil) // jitter 0.5
	e.waitReady(t)
	first := start.Add(discordInterval / 2)
	for i := range 4 {
		at := first.Add(time.Duration(i) * discordInterval)
		clock.BlockUntilTimerAt(t, at)
		if n := len(heartbeats(e.g)); n != i {
			t.Fatalf("before %v: %d heartbeats, want %d", at.Sub(start), n, i)
		}
		// One nanosecond early, nothing happens.
		clock.AdvanceTo(t, at.Add(-time.Nanosecond))
		clock.BlockUntilTimerAt(t, at)
		if n := len(heartbeats(e.g)); n != i {
			t.Fatalf("1ns before %v: %d heartbeats, want %d", at.Sub(start), n, i)
		}
		clock.AdvanceTo(t, at)
		hb := waitHeartbeats(t, e.g, i+1)
		if got := hb[i].At; !got.Equal(at) {
			t.Fatalf("heartbeat %d at %v, want %v", i+1, got.Sub(start), at.Sub(start))
		}
		e.waitACKed(t)
	}
	// Latency is measured on the clock too: the ACK came back at the same
	// fake instant. Wait for the loop to have taken it in (it parks on
	// the next beat after every event it handles).
	clock.BlockUntilTimerAt(t, first.Add(4*discordInterval))
	st := e.s.Status()
	if st.Latency != 0 || st.Connections != 1 {
		t.Fatalf("status %+v, want latency 0 on the fake clock and one connection", st)
	}
}

// Without ACKs or any other traffic, the shard judges the connection a
// zombie when the second heartbeat falls due, drops it and RESUMEs at once
// on the resume URL, all at one instant of fake time.
func TestClockZombieResumes(t *testing.T) {
	leaktest.Check(t)
	clock := newFakeClock()
	start := clock.Now()
	e := startFake(t, clock, nil)
	e.waitReady(t)
	e.dispatch(3)
	e.waitCaughtUp(t, 5*time.Second)
	if err := e.g.StopHeartbeatACKs(0); err != nil {
		t.Fatal(err)
	}
	first := start.Add(discordInterval / 2)
	clock.BlockUntilTimerAt(t, first)
	clock.AdvanceTo(t, first)
	waitHeartbeats(t, e.g, 1)
	second := first.Add(discordInterval)
	clock.BlockUntilTimerAt(t, second)
	if n := len(e.g.Connections()); n != 1 {
		t.Fatalf("%d connections before the second beat, want 1", n)
	}
	clock.AdvanceTo(t, second)
	r, err := e.g.WaitReceived(ctxT(t, 5*time.Second), func(r discordtest.Received) bool { return r.Op == 6 })
	if err != nil {
		t.Fatal(err)
	}
	if r.Listener != discordtest.ResumeListener || !r.At.Equal(second) || r.Conn != 2 {
		t.Fatalf("RESUME on conn %d listener %v at %v, want conn 2, the resume listener, at %v", r.Conn, r.Listener, r.At.Sub(start), second.Sub(start))
	}
	// The zombie's heartbeat was not sent: the connection was dropped instead.
	if n := len(heartbeats(e.g)); n != 1 {
		t.Fatalf("%d heartbeats, want 1", n)
	}
	e.rec.wait(t, 5*time.Second, "RESUMED", func(evs []shard.Event) bool { return count(evs, "RESUMED") == 1 })
	e.dispatch(2)
	e.waitCaughtUp(t, 5*time.Second)
	checkSeqs(t, e.rec.snapshot())
	st := e.s.Status()
	if st.Reconnects != 1 || st.Resumes != 1 || st.Identifies != 1 {
		t.Fatalf("status %+v", st)
	}
}

// With no READY after IDENTIFY, the shard gives up at exactly 30 s of fake
// time (heartbeating meanwhile), closes with 4000, backs off and
// identifies again.
func TestClockReadyTimeout(t *testing.T) {
	leaktest.Check(t)
	clock := newFakeClock()
	start := clock.Now()
	var swallow atomic.Int32
	swallow.Store(1)
	swallowed := make(chan struct{})
	e := startFake(t, clock, func(c *shard.Config) {
		c.Rand = func() float64 { return 0 } // backoff = half the capped delay
		c.Dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
			var d net.Dialer
			nc, err := d.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return &identifySwallower{Conn: nc, left: &swallow, done: swallowed}, nil
		}
	})
	select {
	case <-swallowed:
	case <-time.After(5 * time.Second):
		t.Fatal("IDENTIFY was not sent")
	}
	first := start.Add(discordInterval / 2)
	clock.BlockUntilTimerAt(t, first)
	clock.AdvanceTo(t, first)
	waitHeartbeats(t, e.g, 1)
	timeout := start.Add(shard.DefaultReadyTimeout)
	clock.BlockUntilTimerAt(t, timeout)
	if n := len(e.g.Connections()); n != 1 || count(e.rec.snapshot(), "READY") != 0 {
		t.Fatalf("%d connections and events %s before the READY timeout", n, summary(e.rec.snapshot()))
	}
	clock.AdvanceTo(t, timeout.Add(-time.Nanosecond))
	clock.BlockUntilTimerAt(t, timeout)
	clock.AdvanceTo(t, timeout)
	ci, err := e.g.WaitConnection(ctxT(t, 5*time.Second), func(ci discordtest.ConnInfo) bool { return ci.Num == 1 && ci.ClientClose != 0 })
	if err != nil {
		t.Fatal(err)
	}
	if ci.ClientClose != 4000 {
		t.Fatalf("closed with %d, want 4000 (keeps nothing, breaks nothing)", ci.ClientClose)
	}
	// The first backoff is Base/2 (Rand 0) from the timeout.
	retry := timeout.Add(10 * time.Millisecond / 2)
	clock.BlockUntilTimerAt(t, retry)
	clock.AdvanceTo(t, retry)
	e.waitReady(t)
	r, err := e.g.WaitReceived(ctxT(t, 5*time.Second), func(r discordtest.Received) bool { return r.Op == 2 })
	if err != nil {
		t.Fatal(err)
	}
	if r.Conn != 2 || !r.At.Equal(retry) {
		t.Fatalf("IDENTIFY on conn %d at %v, want conn 2 at %v", r.Conn, r.At.Sub(start), retry.Sub(start))
	}
	st := e.s.Status()
	if st.Identifies != 2 || st.Connections != 2 || st.LastError == nil || !strings.Contains(st.LastError.Error(), "READY") {
		t.Fatalf("status %+v", st)
	}
}

// Refused connections are retried after the capped exponential delays,
// measured on the clock: with Rand 0.5 each wait is 3/4 of
// min(Base × 2^(n-1), Max), and at least Min (1 s by default).
func TestClockBackoffDelays(t *testing.T) {
	leaktest.Check(t)
	clock := newFakeClock()
	start := clock.Now()
	g := startGateway(t, discordInterval, func(g *discordtest.Gateway) { g.Now = clock.Now })
	g.RefuseConnections(time.Hour)
	e := startShard(t, g, func(c *shard.Config) {
		c.Clock = clock
		c.Identify = &shard.LocalLimiter{Clock: clock}
		c.Backoff = shard.Backoff{Base: time.Second, Max: 8 * time.Second}
		c.Rand = func() float64 { return 0.5 }
	})
	waits := []time.Duration{time.Second, 1500 * time.Millisecond, 3 * time.Second, 6 * time.Second, 6 * time.Second}
	at := start
	for i, w := range waits {
		at = at.Add(w)
		clock.BlockUntilTimerAt(t, at)
		if n := g.Refused(); n != i+1 {
			t.Fatalf("before retry %d: %d refusals, want %d", i+1, n, i+1)
		}
		if st := e.s.Status(); st.State != shard.StateBackoff {
			t.Fatalf("state %v while waiting, want backoff", st.State)
		}
		if i == len(waits)-1 {
			g.RefuseConnections(0)
		}
		clock.AdvanceTo(t, at)
	}
	e.waitReady(t)
	if n := g.Refused(); n != len(waits) {
		t.Fatalf("%d refusals, want %d", n, len(waits))
	}
	r, err := g.WaitReceived(ctxT(t, 5*time.Second), func(r discordtest.Received) bool { return r.Op == 2 })
	if err != nil {
		t.Fatal(err)
	}
	if want := start.Add(17500 * time.Millisecond); !r.At.Equal(want) {
		t.Fatalf("IDENTIFY at %v, want %v", r.At.Sub(start), want.Sub(start))
	}
}

// identifySwallower drops the client's IDENTIFY frames while left > 0, so
// the fake never answers with READY.
type identifySwallower struct {
	net.Conn
	left *atomic.Int32
	done chan struct{} // closed when the last one was dropped
}

func (c *identifySwallower) Write(b []byte) (int, error) {
	if c.left.Load() <= 0 {
		return c.Conn.Write(b)
	}
	var out []byte
	rest := b
	for len(rest) > 0 {
		n, payload, ok := clientFrame(rest)
		if !ok {
			out = append(out, rest...)
			break
		}
		if bytes.Contains(payload, []byte(`"op":2`)) && c.left.Add(-1) >= 0 {
			if c.left.Load() == 0 {
				close(c.done)
			}
			rest = rest[n:]
			continue
		}
		out = append(out, rest[:n]...)
		rest = rest[n:]
	}
	if _, err := c.Conn.Write(out); err != nil {
		return 0, err
	}
	return len(b), nil
}

// clientFrame splits off one masked client frame (RFC 6455 §5.2) and
// returns its length and unmasked payload.
func clientFrame(b []byte) (n int, payload []byte, ok bool) {
	if len(b) < 2 || b[1]&0x80 == 0 {
		return 0, nil, false
	}
	size, h := int(b[1]&0x7f), 2
	switch size {
	case 126:
		if len(b) < 4 {
			return 0, nil, false
		}
		size, h = int(b[2])<<8|int(b[3]), 4
	case 127:
		return 0, nil, false // never for gateway payloads (4096 bytes at most)
	}
	if len(b) < h+4+size {
		return 0, nil, false
	}
	mask := b[h : h+4]
	payload = make([]byte, size)
	for i := range size {
		payload[i] = b[h+4+i] ^ mask[i%4]
	}
	return h + 4 + size, payload, true
}

// The send limit's 60 s window runs on the clock: once the payloads Discord
// allows in a window (less the room kept for heartbeats) went out at one
// instant, the next waits until exactly 60 s after the oldest of them.
func TestClockSendWindow(t *testing.T) {
	leaktest.Check(t)
	clock := newFakeClock()
	start := clock.Now()
	e := startFake(t, clock, nil)
	e.waitReady(t)
	// 120 per window, 4 kept for heartbeats at 41.25 s (one per interval
	// in a window, one asked for, one RESUME or IDENTIFY); the IDENTIFY
	// took one.
	const free = 120 - 4 - 1
	ctx := ctxT(t, 10*time.Second)
	presence := gateway.Presence{Status: "online"}
	for i := range free {
		if err := e.s.UpdatePresence(ctx, presence); err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
	}
	sent := make(chan error, 1)
	go func() { sent <- e.s.UpdatePresence(ctx, presence) }()
	// The first heartbeat still goes (room was kept for it).
	first := start.Add(discordInterval / 2)
	clock.BlockUntilTimerAt(t, first)
	clock.AdvanceTo(t, first)
	waitHeartbeats(t, e.g, 1)
	e.waitACKed(t)
	open := start.Add(time.Minute)
	clock.BlockUntilTimerAt(t, open)
	clock.AdvanceTo(t, open.Add(-time.Nanosecond))
	clock.BlockUntilTimerAt(t, open)
	select {
	case err := <-sent:
		t.Fatalf("payload %d went before the window moved (err %v)", free+1, err)
	default:
	}
	clock.AdvanceTo(t, open)
	select {
	case err := <-sent:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("payload %d not sent when the window moved; status %+v", free+1, e.s.Status())
	}
	n := 0
	last, err := e.g.WaitReceived(ctxT(t, 5*time.Second), func(r discordtest.Received) bool {
		if r.Op == 3 {
			n++
		}
		return n == free+1
	})
	if err != nil {
		t.Fatalf("%d presence updates arrived: %v", n, err)
	}
	if !last.At.Equal(open) {
		t.Fatalf("presence update %d at %v, want %v", free+1, last.At.Sub(start), open.Sub(start))
	}
}

// A server that completes the WebSocket handshake and then says nothing:
// the shard gives up on HELLO at exactly HelloTimeout (20 s) of fake time
// and backs off before dialing again.
func TestClockHelloTimeout(t *testing.T) {
	leaktest.Check(t)
	clock := newFakeClock()
	start := clock.Now()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	accepted := make(chan net.Conn, 4)
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				close(accepted)
				return
			}
			if err := silentUpgrade(nc); err != nil {
				nc.Close()
				continue
			}
			accepted <- nc
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		for nc := range accepted {
			nc.Close()
		}
	})
	cfg := shard.Config{
		Gateway: gateway.Config{Token: "token", URL: "ws://" + ln.Addr().String()},
		Clock:   clock,
		Backoff: shard.Backoff{Base: 10 * time.Millisecond, Min: time.Millisecond},
		Rand:    func() float64 { return 0 },
	}
	s, err := shard.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	var first net.Conn
	select {
	case first = <-accepted:
	case <-time.After(5 * time.Second):
		t.Fatal("no connection")
	}
	deadline := start.Add(shard.DefaultHelloTimeout)
	clock.BlockUntilTimerAt(t, deadline)
	clock.AdvanceTo(t, deadline.Add(-time.Nanosecond))
	clock.BlockUntilTimerAt(t, deadline)
	if st := s.Status(); st.State != shard.StateConnecting || st.Connections != 1 {
		t.Fatalf("1ns before the HELLO timeout: status %+v", st)
	}
	clock.AdvanceTo(t, deadline)
	// The first backoff (Base/2 with Rand 0) starts from the timeout.
	retry := deadline.Add(5 * time.Millisecond)
	clock.BlockUntilTimerAt(t, retry)
	st := s.Status()
	if st.State != shard.StateBackoff || st.LastError == nil || !strings.Contains(st.LastError.Error(), "HELLO") {
		t.Fatalf("after the HELLO timeout: status %+v", st)
	}
	// The abandoned connection was closed (EOF or reset), not left open.
	first.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.Copy(io.Discard, first); errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("first connection not closed by the shard: %v", err)
	}
	clock.AdvanceTo(t, retry)
	select {
	case second := <-accepted:
		// Hang up, so the shard is not left waiting (on the wall clock) for
		// a reply to its close frame when the test ends.
		second.Close()
	case <-time.After(5 * time.Second):
		t.Fatal("no second connection after the backoff")
	}
}

// silentUpgrade answers a WebSocket upgrade request (RFC 6455 §4.2.2) and
// nothing else.
func silentUpgrade(nc net.Conn) error {
	nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	req, err := http.ReadRequest(bufio.NewReader(nc))
	if err != nil {
		return err
	}
	sum := sha1.Sum([]byte(req.Header.Get("Sec-WebSocket-Key") + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	_, err = fmt.Fprintf(nc, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n",
		base64.StdEncoding.EncodeToString(sum[:]))
	nc.SetReadDeadline(time.Time{})
	return err
}

// LocalLimiter on the clock: after the bucket's 5 s interval, an exhausted
// daily budget waits for ResetAt (an hour of fake time); then the interval
// applies again.
func TestClockLimiterBudget(t *testing.T) {
	leaktest.Check(t)
	clock := newFakeClock()
	start := clock.Now()
	budget := &shard.Budget{Remaining: 1, Total: 2, ResetAt: start.Add(time.Hour)}
	l := &shard.LocalLimiter{Clock: clock, Budget: budget}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	acquire := func() chan time.Time {
		got := make(chan time.Time, 1)
		go func() {
			rel, err := l.Acquire(ctx, 0)
			if err != nil {
				t.Error(err)
				close(got)
				return
			}
			got <- clock.Now()
			rel(nil)
		}()
		return got
	}
	if at := <-acquire(); !at.Equal(start) {
		t.Fatalf("first slot at %v", at.Sub(start))
	}
	second := acquire()
	// First the bucket's interval, then the budget.
	interval := start.Add(shard.DefaultIdentifyInterval)
	clock.BlockUntilTimerAt(t, interval)
	clock.AdvanceTo(t, interval)
	clock.BlockUntilTimerAt(t, budget.ResetAt)
	clock.AdvanceTo(t, budget.ResetAt.Add(-time.Nanosecond))
	clock.BlockUntilTimerAt(t, budget.ResetAt)
	select {
	case <-second:
		t.Fatal("slot handed out before the budget reset")
	default:
	}
	reset := budget.ResetAt
	clock.AdvanceTo(t, reset)
	if at := <-second; !at.Equal(reset) {
		t.Fatalf("second slot at %v, want %v", at.Sub(start), reset.Sub(start))
	}
	third := acquire()
	next := reset.Add(shard.DefaultIdentifyInterval)
	clock.BlockUntilTimerAt(t, next)
	clock.AdvanceTo(t, next)
	if at := <-third; !at.Equal(next) {
		t.Fatalf("third slot at %v, want %v", at.Sub(start), next.Sub(start))
	}
}
