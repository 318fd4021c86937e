package shard_test

import (
	"testing"
	"time"

	"github.com/ipcord/ipcord/discordtest"
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
	st := e.s.Status()
	if st.Connections != 1 || st.Identifies != 1 || st.State.String() != "ready" {
		t.Fatalf("status %+v", st)
	}
	// Heartbeats flow and are acknowledged.
	if _, err := g.WaitReceived(ctxT(t, 2*time.Second), func(r discordtest.Received) bool { return r.Op == 1 }); err != nil {
		t.Fatal(err)
	}
}
