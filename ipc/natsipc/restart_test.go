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
