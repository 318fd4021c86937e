package shard_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/ipcord/ipcord/discordtest"
	"github.com/ipcord/ipcord/gateway"
	"github.com/ipcord/ipcord/gateway/shard"
	"github.com/ipcord/ipcord/internal/leaktest"
)

// matrixInterval is the fake's heartbeat interval in the fault matrix;
// every recovery must finish within three of them, on the shard's clock (a
// runningClock: the machine's load does not count against it).
const matrixInterval = 150 * time.Millisecond

type outcomeKind int

const (
	expectNone     outcomeKind = iota // same connection, nothing lost
	expectResume                      // new connection, RESUME, no gap, no duplicate
	expectIdentify                    // new connection, IDENTIFY, new session
	expectFatal                       // Run returns a *CloseError
)

func (k outcomeKind) String() string {
	return [...]string{"none", "resume", "identify", "fatal"}[k]
}

type fault struct {
	name   string
	comp   gateway.Compression
	expect outcomeKind
	// extra time allowed beyond 3 intervals (a refusal lasts that long).
	extra  time.Duration
	inject func(t *testing.T, g *discordtest.Gateway) error
	// onMain: the RESUME must arrive on the main listener (the resume URL
	// failed); otherwise on the resume listener.
	onMain bool
}

func closeFault(code int) fault {
	f := fault{name: fmt.Sprintf("close_%d", code), expect: expectResume,
		inject: func(t *testing.T, g *discordtest.Gateway) error { return g.CloseShard(0, code, "test") }}
	switch gateway.ActionFor(gateway.CloseCode(code)) {
	case gateway.ActionIdentify:
		f.expect = expectIdentify
	case gateway.ActionStop:
		f.expect = expectFatal
	}
	return f
}

func faults() []fault {
	var fs []fault
	for code := 4000; code <= 4014; code++ {
		fs = append(fs, closeFault(code))
	}
	// A server closing with 1000 or 1001 (a gateway restarting) must not
	// make the shard echo a code that ends its session.
	fs = append(fs, closeFault(1000), closeFault(1001))
	fs = append(fs,
		fault{name: "reconnect_op7", expect: expectResume,
			inject: func(t *testing.T, g *discordtest.Gateway) error { return g.SendReconnect(0) }},
		fault{name: "invalid_session_resumable", expect: expectResume,
			inject: func(t *testing.T, g *discordtest.Gateway) error { return g.SendInvalidSession(0, true) }},
		fault{name: "invalid_session_not_resumable", expect: expectIdentify,
			inject: func(t *testing.T, g *discordtest.Gateway) error { return g.SendInvalidSession(0, false) }},
		fault{name: "heartbeat_request", expect: expectNone,
			inject: func(t *testing.T, g *discordtest.Gateway) error { return g.RequestHeartbeat(0) }},
		fault{name: "no_acks", expect: expectResume,
			inject: func(t *testing.T, g *discordtest.Gateway) error { return g.StopHeartbeatACKs(0) }},
		fault{name: "hold_frames", expect: expectResume,
			inject: func(t *testing.T, g *discordtest.Gateway) error {
				release, err := g.HoldFrames(0)
				if err == nil {
					t.Cleanup(release)
				}
				return err
			}},
		fault{name: "delay_frames_short", expect: expectNone,
			inject: func(t *testing.T, g *discordtest.Gateway) error { return g.DelayFrames(0, matrixInterval/3) }},
		// Delayed for longer than the test waits (DelayFrames counts real
		// time, which can outrun the running clock many times over): the
		// shard must give up on the connection first.
		fault{name: "delay_frames_long", expect: expectResume,
			inject: func(t *testing.T, g *discordtest.Gateway) error { return g.DelayFrames(0, patience) }},
		fault{name: "cut_mid_frame", expect: expectResume,
			inject: func(t *testing.T, g *discordtest.Gateway) error { return g.CutMidFrame(0) }},
		fault{name: "corrupt_zlib", comp: gateway.CompressZlib, expect: expectResume,
			inject: func(t *testing.T, g *discordtest.Gateway) error { return g.CorruptStream(0) }},
		fault{name: "corrupt_zstd", comp: gateway.CompressZstd, expect: expectResume,
			inject: func(t *testing.T, g *discordtest.Gateway) error { return g.CorruptStream(0) }},
		fault{name: "refuse_connections", expect: expectResume, extra: matrixInterval, onMain: true,
			inject: func(t *testing.T, g *discordtest.Gateway) error {
				g.RefuseConnections(matrixInterval * timeScale)
				return g.CloseShard(0, 4000, "test")
			}},
		fault{name: "reconnect_before_hello", expect: expectResume,
			inject: func(t *testing.T, g *discordtest.Gateway) error {
				g.ReconnectBeforeHello(1)
				return g.CloseShard(0, 4000, "test")
			}},
		fault{name: "session_expired", expect: expectIdentify,
			inject: func(t *testing.T, g *discordtest.Gateway) error {
				// Close first (the fault needs the live connection), then
				// expire the session before the client is back.
				if err := g.CloseShard(0, 4000, "test"); err != nil {
					return err
				}
				return g.DropSession(0)
			}},
	)
	return fs
}

func TestFaultMatrix(t *testing.T) {
	for _, f := range faults() {
		for _, comp := range []gateway.Compression{gateway.CompressNone, gateway.CompressZlib} {
			if f.comp != gateway.CompressNone && comp != gateway.CompressNone {
				continue
			}
			if f.comp != gateway.CompressNone {
				comp = f.comp
			}
			t.Run(f.name+"/"+comp.String(), func(t *testing.T) {
				leaktest.Check(t)
				runFault(t, f, comp)
			})
		}
	}
}

func runFault(t *testing.T, f fault, comp gateway.Compression) {
	clock := newRunningClock(t)
	g, e := startOnClock(t, clock, matrixInterval, func(c *shard.Config) { c.Gateway.Compression = comp })
	e.waitReady(t)
	e.dispatch(5)
	e.waitCaughtUp(t, patience)
	conns := len(g.Connections())
	before := e.rec.snapshot()

	at := clock.Now()
	if err := f.inject(t, g); err != nil {
		t.Fatalf("inject: %v", err)
	}
	e.dispatch(5)
	limit := 3*matrixInterval + f.extra

	switch f.expect {
	case expectFatal:
		err := e.runErr(t, patience)
		if took := clock.Since(at); took > limit {
			t.Errorf("Run returned %v after the fault, want within %v", took, limit)
		}
		var ce *shard.CloseError
		if !errors.As(err, &ce) || int(ce.Code) == 0 || !errors.Is(err, shard.ErrFatal) {
			t.Fatalf("Run returned %v, want a fatal *CloseError", err)
		}
		if e.s.Status().State != shard.StateStopped {
			t.Fatalf("state %v after a fatal close", e.s.Status().State)
		}
		if n := len(g.Connections()); n != conns {
			t.Fatalf("reconnected after a fatal close: %d connections, had %d", n, conns)
		}
		return
	case expectNone:
		// Heartbeats keep going on the same connection for 3 intervals:
		// wait for three more heartbeats there.
		ci := g.Connections()[conns-1]
		since := g.Now()
		for range 3 {
			r, err := g.WaitReceived(ctxT(t, patience), func(r discordtest.Received) bool {
				return r.Op == 1 && r.Conn == ci.Num && r.At.After(since)
			})
			if err != nil {
				t.Fatal(err)
			}
			since = r.At
		}
		e.waitCaughtUp(t, patience)
		if n := len(g.Connections()); n != conns {
			t.Fatalf("fault %s made the shard reconnect: %d connections, had %d", f.name, n, conns)
		}
		checkSeqs(t, e.rec.snapshot())
		return
	case expectResume:
		e.rec.wait(t, patience, "RESUMED", func(evs []shard.Event) bool {
			return count(evs, "RESUMED") > count(before, "RESUMED")
		})
		if took := clock.Since(at); took > limit {
			t.Errorf("resumed %v after the fault, want within %v", took, limit)
		}
		e.dispatch(3)
		e.waitCaughtUp(t, patience)
		evs := e.rec.snapshot()
		checkSeqs(t, evs)
		if n := count(evs, "READY"); n != 1 {
			t.Fatalf("%d READY events, want 1 (resumed, never re-identified)", n)
		}
		r, err := g.WaitReceived(ctxT(t, patience), func(r discordtest.Received) bool { return r.Op == 6 })
		if err != nil {
			t.Fatal(err)
		}
		want := discordtest.ResumeListener
		if f.onMain {
			want = discordtest.MainListener
		}
		if r.Listener != want {
			t.Fatalf("RESUME arrived on the %v listener, want %v", r.Listener, want)
		}
	case expectIdentify:
		e.rec.wait(t, patience, "a second READY", func(evs []shard.Event) bool { return count(evs, "READY") == 2 })
		if took := clock.Since(at); took > limit {
			t.Errorf("identified again %v after the fault, want within %v", took, limit)
		}
		e.dispatch(3)
		e.waitCaughtUp(t, patience)
		checkSeqs(t, e.rec.snapshot())
		// Never IDENTIFY twice on one socket.
		idents := map[int]int{}
		for _, r := range g.Received() {
			if r.Op == 2 {
				idents[r.Conn]++
				if idents[r.Conn] > 1 {
					t.Fatalf("two IDENTIFYs on connection %d", r.Conn)
				}
			}
		}
	}
	// The shard never ended its session with 1000 or 1001.
	for _, ci := range g.Connections() {
		if ci.ClientClose == 1000 || ci.ClientClose == 1001 {
			t.Fatalf("connection %d closed by the client with %d", ci.Num, ci.ClientClose)
		}
	}
	_ = context.Background
}
