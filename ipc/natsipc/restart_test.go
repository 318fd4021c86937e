package natsipc_test

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/ipcord/ipcord/internal/leaktest"
	"github.com/ipcord/ipcord/ipc"
	"github.com/ipcord/ipcord/ipc/natsipc"
	"github.com/nats-io/nats.go"
)

func TestCallsResumeAfterServerRestart(t *testing.T) {
	leaktest.Check(t)
	store := t.TempDir()
	s := startServer(t, 0, store)
	port := s.Addr().(*net.TCPAddr).Port
	url := s.ClientURL()
	join(t, url, fast("c0", testRouter("c0", nil)))
	caller := join(t, url, natsipc.Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := ipc.CallAs[map[string]string](ctx, caller, "whoami", nil); err != nil {
		t.Fatal(err)
	}

	s.Shutdown()
	s.WaitForShutdown()
	// During the outage a call fails with the WebSocket transport's typed
	// errors: never sent (not connected), or cut off (connection lost).
	short, cancel2 := context.WithTimeout(ctx, 200*time.Millisecond)
	err := caller.Call(short, "whoami", nil, nil)
	cancel2()
	if !errors.Is(err, ipc.ErrNotConnected) && !errors.Is(err, ipc.ErrConnectionLost) {
		t.Fatalf("call during the outage: %v; want ErrNotConnected or ErrConnectionLost", err)
	}

	startServer(t, int(port), store)
	// A call made while reconnecting waits for the connection: one call
	// with a generous deadline succeeds once both nodes are back.
	for {
		attempt, cancel3 := context.WithTimeout(ctx, time.Second)
		who, err := ipc.CallAs[map[string]string](attempt, caller, "whoami", nil)
		cancel3()
		if err == nil && who["cluster"] == "c0" {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("calls did not resume after the restart: last error %v", err)
		}
		// The serving node may reconnect after the caller: until it
		// resubscribes, its route has no responders.
		if !errors.Is(err, natsipc.ErrNoResponders) && !errors.Is(err, ipc.ErrNotConnected) && !errors.Is(err, ipc.ErrTimeout) {
			t.Fatalf("unexpected error while reconnecting: %v", err)
		}
		time.Sleep(10 * time.Millisecond) // poll interval
	}
	waitMembers(t, caller, "c0")
}

// A call that reaches an instance as it shuts down is not lost: the
// instance refuses it before running the handler, and Call sends it again,
// to another instance. The first instance here is a bare NATS subscriber
// that behaves as a leaving node does: it starts the next instance, leaves
// the queue group, and refuses. A call to a named cluster is not retried.
func TestCallSurvivesShutdownRefusal(t *testing.T) {
	leaktest.Check(t)
	s := startServer(t, 0, "")
	url := s.ClientURL()
	leaving := connect(t, url)
	next := make(chan error, 1)
	var sub *nats.Subscription
	sub, err := leaving.QueueSubscribe("ipcord.any.whoami", "ipcord", func(m *nats.Msg) {
		nc, err := nats.Connect(url)
		if err == nil {
			var b *natsipc.Node
			if b, err = natsipc.New(nc, natsipc.Config{Cluster: "b", Router: testRouter("b", nil)}); err == nil {
				t.Cleanup(func() { b.Close(); nc.Close() })
			}
		}
		next <- err
		sub.Unsubscribe()
		leaving.Flush()
		m.Respond([]byte("!a\nshutting_down\ncluster a is shutting down"))
	})
	if err != nil {
		t.Fatal(err)
	}
	leaving.Flush()
	caller := join(t, url, natsipc.Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	who, err := ipc.CallAs[map[string]string](ctx, caller, "whoami", nil)
	if err := <-next; err != nil {
		t.Fatalf("starting b: %v", err)
	}
	if err != nil || who["cluster"] != "b" {
		t.Fatalf("whoami while a leaves = %v, %v; want b to answer the retried call", who, err)
	}

	// The same refusal from a named cluster comes back as it is.
	named := connect(t, url)
	if _, err := named.Subscribe("ipcord.cluster.c.whoami", func(m *nats.Msg) {
		m.Respond([]byte("!c\nshutting_down\ncluster c is shutting down"))
	}); err != nil {
		t.Fatal(err)
	}
	named.Flush()
	if err := caller.Cluster("c").Call(ctx, "whoami", nil, nil); !errors.Is(err, ipc.ErrShuttingDown) {
		t.Fatalf("call to a leaving named cluster: %v; want shutting_down", err)
	}
}
