package shard_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ipcord/ipcord/discordtest"
	"github.com/ipcord/ipcord/gateway"
	"github.com/ipcord/ipcord/gateway/shard"
	"github.com/ipcord/ipcord/internal/leaktest"
	"github.com/ipcord/ipcord/internal/syncbuf"
)

// HandOff lets the handler finish the event in hand with a live context,
// hands no further event to it, closes with 4000, and exports the seq of
// that event, however many more were received and queued.
func TestShardHandOffDrains(t *testing.T) {
	leaktest.Check(t)
	g := startGateway(t, discordInterval, nil)
	inHand, finish := make(chan int64), make(chan struct{})
	ctxErr := make(chan error, 1)
	var blocked int64
	e := startShard(t, g, func(c *shard.Config) {
		rec := c.Handler
		c.Handler = func(ctx context.Context, ev shard.Event) {
			rec(ctx, ev)
			if ev.Name == "MESSAGE_CREATE" && blocked == 0 {
				blocked = ev.Seq
				inHand <- ev.Seq
				<-finish
				ctxErr <- ctx.Err()
			}
		}
	})
	e.waitReady(t)
	e.dispatch(5)
	seq := <-inHand
	// The rest arrive and wait in the queue.
	poll(t, 5*time.Second, "4 events queued", func() bool { return e.s.Status().Queued == 4 })
	out := make(chan error, 1)
	go func() {
		sess, err := e.s.HandOff(ctxT(t, 10*time.Second))
		if err == nil && sess.Seq != seq {
			err = errors.New("exported the wrong seq")
		}
		out <- err
	}()
	time.Sleep(20 * time.Millisecond) // HandOff must wait for the handler
	select {
	case err := <-out:
		t.Fatalf("HandOff returned before the handler finished: %v", err)
	default:
	}
	close(finish)
	if err := <-ctxErr; err != nil {
		t.Errorf("the handler's context ended during the handoff: %v", err)
	}
	if err := <-out; err != nil {
		t.Fatal(err)
	}
	if err := e.runErr(t, 5*time.Second); err != nil {
		t.Errorf("Run: %v", err)
	}
	if got := lastSeq(e.rec.snapshot()); got != seq {
		t.Errorf("handled up to %d, want %d", got, seq)
	}
	conns := g.Connections()
	if c := conns[len(conns)-1]; c.ClientClose != 4000 {
		t.Errorf("closed with %d, want 4000", c.ClientClose)
	}
	if si, ok := g.Session(0); !ok || si.Seq != seq+4 {
		t.Errorf("the fake's session: %+v %v", si, ok)
	}
}

// A HandOff that comes while an IDENTIFY awaits its READY waits until the
// handler has handled READY: stopping at once would lose the session that
// IDENTIFY starts (and the IDENTIFY spent) to both processes, as when a
// fleet pulls a shard its first member has just claimed, and a session
// with nothing handled cannot be resumed. The session HandOff returns is
// that READY's, and a successor resumes it without an IDENTIFY.
func TestShardHandOffWaitsForReady(t *testing.T) {
	leaktest.Check(t)
	starts := &heldStarts{arrived: make(chan struct{}), release: make(chan struct{})}
	g := startGateway(t, discordInterval, func(g *discordtest.Gateway) { g.SessionStarts = starts })
	t.Cleanup(starts.letGo) // before the fake closes: it waits with the fake's lock held
	var logs syncbuf.Buffer
	e := startShard(t, g, func(c *shard.Config) {
		c.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	select {
	case <-starts.arrived: // the IDENTIFY is in; READY is held back
	case <-time.After(10 * time.Second):
		t.Fatal("no IDENTIFY")
	}
	type result struct {
		sess gateway.Session
		err  error
	}
	out := make(chan result, 1)
	go func() {
		sess, err := e.s.HandOff(ctxT(t, 10*time.Second))
		out <- result{sess, err}
	}()
	poll(t, 10*time.Second, "the HandOff to wait for READY", func() bool {
		select {
		case r := <-out:
			t.Fatalf("HandOff returned %+v, %v before READY", r.sess, r.err)
		default:
		}
		return strings.Contains(logs.String(), "handoff waits for the READY")
	})
	starts.letGo()
	r := <-out
	si, ok := g.Session(0)
	if r.err != nil || !r.sess.Valid() || !ok || r.sess.ID != si.ID {
		t.Fatalf("HandOff: %+v, %v; the fake's session %+v %v", r.sess, r.err, si, ok)
	}
	// READY was handled before the stop: a RESUME from seq 0 would have
	// the fake replay it, which no client takes.
	if r.sess.Seq < 1 || count(e.rec.snapshot(), "READY") != 1 {
		t.Fatalf("HandOff exported seq %d; handled %s", r.sess.Seq, summary(e.rec.snapshot()))
	}
	next := startShard(t, g, func(c *shard.Config) { c.Session = r.sess })
	next.rec.wait(t, 10*time.Second, "RESUMED", func(evs []shard.Event) bool { return count(evs, "RESUMED") == 1 })
	if n := identifies(g); n != 1 {
		t.Errorf("%d IDENTIFYs, want the first one only", n)
	}
}

// heldStarts holds the fake's first IDENTIFY (and the fake with it) until
// letGo.
type heldStarts struct {
	arrived, release chan struct{}
	first, once      sync.Once
}

func (h *heldStarts) ConsumeSessionStart() bool {
	h.first.Do(func() {
		close(h.arrived)
		<-h.release
	})
	return true
}

func (h *heldStarts) letGo() { h.once.Do(func() { close(h.release) }) }

// HandOff and Adopt refuse what cannot be done, with typed errors.
func TestManagerHandOffErrors(t *testing.T) {
	leaktest.Check(t)
	g := startGateway(t, discordInterval, func(g *discordtest.Gateway) { g.Shards = 2 })
	tmpl := shardConfig(g, newRecorder())
	m, err := shard.NewManager(shard.ManagerConfig{Shard: tmpl, ShardCount: 2, Shards: []int{0}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := ctxT(t, 10*time.Second)
	if _, err := m.HandOff(ctx, 0); !errors.Is(err, shard.ErrShardNotHeld) {
		t.Errorf("HandOff before Run: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- m.Run(context.Background()) }()
	if _, err := m.Adopt(ctx, 0, gateway.Session{}); !errors.Is(err, shard.ErrShardHeld) {
		t.Errorf("Adopt of a running shard: %v", err)
	}
	if _, err := m.Adopt(ctx, 2, gateway.Session{}); !errors.Is(err, shard.ErrConfig) {
		t.Errorf("Adopt of shard 2 of 2: %v", err)
	}
	if _, err := m.HandOff(ctx, 1); !errors.Is(err, shard.ErrShardNotHeld) {
		t.Errorf("HandOff of a shard not run: %v", err)
	}
	if err := m.Close(ctx, true); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, err := m.Adopt(ctx, 1, gateway.Session{}); !errors.Is(err, shard.ErrNotRunning) {
		t.Errorf("Adopt after Run: %v", err)
	}
}

// A handoff while the shard's connection is still upgrading (a handoff
// racing a reconnect) hands the session over at once: no close frame can
// go out before the upgrade, so there is no reply to wait for. The shard
// used to wait its full second for one, deaf all along.
func TestHandOffDuringUpgrade(t *testing.T) {
	leaktest.Check(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	accepted, gone := make(chan struct{}), make(chan struct{})
	go func() {
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		defer nc.Close()
		close(accepted)
		io.Copy(io.Discard, nc) // the upgrade request; never answered
		close(gone)
	}()
	url := "ws://" + ln.Addr().String()
	sess := gateway.Session{ID: "s", Seq: 7, ResumeURL: url}
	s, err := shard.New(shard.Config{Gateway: gatewayConfig(url), Session: sess})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Run(context.Background()) }()
	select {
	case <-accepted:
	case <-time.After(patience):
		t.Fatal("the shard never connected")
	}
	start := time.Now()
	got, err := s.HandOff(ctxT(t, patience))
	// The wait for a close reply is a second of wall time: a handoff that
	// took that long waited for it.
	if took := time.Since(start); took >= time.Second {
		t.Errorf("HandOff took %v: it waited for a reply to a close frame it could not send", took)
	}
	if err != nil || got != sess {
		t.Fatalf("HandOff: %+v, %v; want %+v", got, err, sess)
	}
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
	select {
	case <-gone:
	case <-time.After(patience):
		t.Fatal("the connection stayed open after the handoff")
	}
}
