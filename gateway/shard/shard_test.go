package shard_test

import (
	"testing"
	"time"

	"github.com/ipcord/ipcord/discordtest"
	"github.com/ipcord/ipcord/gateway/shard"
	"github.com/ipcord/ipcord/internal/leaktest"
)

func TestShardReadyAndDispatches(t *testing.T) {
	leaktest.Check(t)
	g := startGateway(t, 100*time.Millisecond, nil)
	e := startShard(t, g, nil)
	e.waitReady(t)
	e.dispatch(20)
	e.waitCaughtUp(t, 5*time.Second)
	checkSeqs(t, e.rec.snapshot())
	// Every event names its session, so (shard, session, seq) is unique.
	info, _ := g.Session(0)
	for _, ev := range e.rec.snapshot() {
		if ev.Session != info.ID || ev.Shard != 0 {
			t.Fatalf("event %d %s: shard %d, session %q; want 0, %q", ev.Seq, ev.Name, ev.Shard, ev.Session, info.ID)
		}
	}
	st := e.s.Status()
	if st.Connections != 1 || st.Identifies != 1 || st.State.String() != "ready" {
		t.Fatalf("status %+v", st)
	}
	// Heartbeats flow and are acknowledged.
	if _, err := g.WaitReceived(ctxT(t, 2*time.Second), func(r discordtest.Received) bool { return r.Op == 1 }); err != nil {
		t.Fatal(err)
	}
}

// Status says when the last heartbeat ACK came and the last close code the
// gateway sent, so a dashboard can show a connection going quiet and why
// the last one ended.
func TestStatusLastACKAndCloseCode(t *testing.T) {
	leaktest.Check(t)
	g := startGateway(t, 50*time.Millisecond, nil)
	before := time.Now()
	e := startShard(t, g, nil)
	e.waitReady(t)
	poll(t, 5*time.Second, "a heartbeat ACK", func() bool { return !e.s.Status().LastACK.IsZero() })
	if st := e.s.Status(); st.LastACK.Before(before) || st.LastACK.After(time.Now()) || st.LastCloseCode != 0 {
		t.Fatalf("status %+v: LastACK out of range or a close code before any close", st)
	}
	if err := g.CloseShard(0, 4000, "test"); err != nil {
		t.Fatal(err)
	}
	poll(t, 5*time.Second, "the shard to resume", func() bool {
		st := e.s.Status()
		return st.Resumes == 1 && st.State == shard.StateReady
	})
	if st := e.s.Status(); st.LastCloseCode != 4000 {
		t.Fatalf("LastCloseCode = %d after a close with 4000", st.LastCloseCode)
	}
}
