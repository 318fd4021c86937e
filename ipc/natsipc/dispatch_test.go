package natsipc_test

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ipcord/ipcord/internal/leaktest"
	"github.com/ipcord/ipcord/ipc"
	"github.com/ipcord/ipcord/ipc/natsipc"
)

// A handler that blocks while the node's reader runs it must not hold up
// the calls behind it: the watchdog hands the requests to a new reader.
func TestBlockedHandlerDoesNotHoldUpOthers(t *testing.T) {
	leaktest.Check(t)
	s := startServer(t, 0, "")
	started := make(chan string, 1)
	join(t, s.ClientURL(), fast("c0", testRouter("c0", started)))
	caller := join(t, s.ClientURL(), natsipc.Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	blockCtx, unblock := context.WithCancel(ctx)
	blocked := make(chan error, 1)
	go func() { blocked <- caller.Call(blockCtx, "block", nil, nil) }()
	<-started // "block" is new, so the reader itself is running it now

	for i := range 50 {
		var out json.RawMessage
		callCtx, cancelCall := context.WithTimeout(ctx, time.Second)
		err := caller.Call(callCtx, "echo", json.RawMessage(`[1]`), &out)
		cancelCall()
		if err != nil || string(out) != `[1]` {
			t.Fatalf("echo %d behind a blocked handler = %s, %v", i, out, err)
		}
	}
	select {
	case err := <-blocked:
		t.Fatalf("block returned early: %v", err)
	default:
	}
	unblock()
	if err := <-blocked; !errors.Is(err, ipc.ErrCanceled) {
		t.Fatalf("block after cancel: %v; want ipc.ErrCanceled", err)
	}
}

// Handlers of a slow route run at the same time: each of n calls waits
// until all n are running, which a node running them one by one would
// never reach.
func TestSlowRouteRunsInParallel(t *testing.T) {
	leaktest.Check(t)
	const n = 16
	var running atomic.Int32
	all := make(chan struct{})
	var once sync.Once
	r := ipc.NewRouter()
	r.HandleFunc("gather", func(ctx context.Context, req *ipc.Request) (any, error) {
		if running.Add(1) == n {
			once.Do(func() { close(all) })
		}
		select {
		case <-all:
			return true, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	})
	s := startServer(t, 0, "")
	join(t, s.ClientURL(), fast("c0", r))
	caller := join(t, s.ClientURL(), natsipc.Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	errs := make(chan error, n)
	for range n {
		go func() { errs <- caller.Call(ctx, "gather", nil, nil) }()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Fatalf("gather: %v; the handlers did not all run at once", err)
		}
	}
}

// A caller that gives up cancels the remote handler's context at once,
// not at the deadline: for a call, and for each cluster of a Broadcast.
func TestCancelReachesRemoteHandler(t *testing.T) {
	leaktest.Check(t)
	s := startServer(t, 0, "")
	ended := make(chan error, 8)
	started := make(chan string, 8)
	for _, c := range []string{"c0", "c1", "c2"} {
		r := ipc.NewRouter()
		r.HandleFunc("wait", func(ctx context.Context, req *ipc.Request) (any, error) {
			started <- c
			<-ctx.Done()
			ended <- ctx.Err()
			return nil, ctx.Err()
		})
		join(t, s.ClientURL(), natsipc.Config{Cluster: c, Router: r})
	}
	caller := join(t, s.ClientURL(), natsipc.Config{})
	waitMembers(t, caller, "c0", "c1", "c2")
	// Deadlines far away: only a cancel can end the handlers in time.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	wait := func(what string, n int) {
		t.Helper()
		for range n {
			select {
			case err := <-ended:
				if !errors.Is(err, context.Canceled) {
					t.Fatalf("%s: handler ended with %v; want context.Canceled", what, err)
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("%s: the handler was not canceled", what)
			}
		}
	}

	callCtx, cancelCall := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- caller.Call(callCtx, "wait", nil, nil) }()
	<-started
	cancelCall()
	if err := <-done; !errors.Is(err, ipc.ErrCanceled) {
		t.Fatalf("call: %v; want ipc.ErrCanceled", err)
	}
	wait("call", 1)

	bcCtx, cancelBroadcast := context.WithCancel(ctx)
	go func() {
		_, err := caller.Broadcast(bcCtx, "wait", nil)
		done <- err
	}()
	for range 3 {
		<-started
	}
	cancelBroadcast()
	<-done
	wait("broadcast", 3)
}

// A reply that comes after its Broadcast gave up must not linger: no
// Broadcast is waiting to read it, so the node drains it, and the next
// Broadcast gets only its own replies.
func TestLateBroadcastRepliesAreDrained(t *testing.T) {
	leaktest.Check(t)
	s := startServer(t, 0, "")
	release := make(chan struct{})
	r := ipc.NewRouter()
	r.HandleFunc("slow", func(ctx context.Context, req *ipc.Request) (any, error) {
		<-release
		return "late", nil
	})
	r.HandleFunc("echo", func(ctx context.Context, req *ipc.Request) (any, error) { return req.Args, nil })
	// c0 heartbeats at the default pace, so a loaded machine cannot make it
	// look missing; the caller's fast heartbeat drains replies often.
	join(t, s.ClientURL(), natsipc.Config{Cluster: "c0", Router: r})
	caller := join(t, s.ClientURL(), fast("", nil))
	waitMembers(t, caller, "c0")

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	res, err := caller.Broadcast(ctx, "slow", nil)
	cancel()
	if err != nil || len(res) != 1 || !errors.Is(res[0].Err, ipc.ErrCanceled) && !errors.Is(res[0].Err, ipc.ErrTimeout) {
		t.Fatalf("broadcast to a stuck cluster = %+v, %v; want its timeout", res, err)
	}
	_, before := natsipc.BroadcastBacklog(caller)
	close(release) // the handler answers now, to nobody

	deadline := time.Now().Add(5 * time.Second)
	for {
		queued, received := natsipc.BroadcastBacklog(caller)
		if received > before && queued == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("late reply received: %v; %d broadcast replies still queued", received > before, queued)
		}
		time.Sleep(5 * time.Millisecond)
	}
	ctx, cancel = context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	res, err = caller.Broadcast(ctx, "echo", json.RawMessage(`"fresh"`))
	if err != nil || len(res) != 1 || res[0].Err != nil || string(res[0].Data) != `"fresh"` {
		t.Fatalf("broadcast after a late reply = %+v, %v", res, err)
	}
}
