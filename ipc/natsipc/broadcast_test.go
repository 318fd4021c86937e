package natsipc_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/ipcord/ipcord/internal/leaktest"
	"github.com/ipcord/ipcord/ipc"
	"github.com/ipcord/ipcord/ipc/natsipc"
	"github.com/nats-io/nats.go"
)

func TestBroadcastThreeClusters(t *testing.T) {
	leaktest.Check(t)
	s := startServer(t, 0, "")
	for _, c := range []string{"c0", "c1", "c2"} {
		join(t, s.ClientURL(), fast(c, testRouter(c, nil)))
	}
	caller := join(t, s.ClientURL(), natsipc.Config{})
	waitMembers(t, caller, "c0", "c1", "c2")

	// The deadline is long: returning well before it shows the gathering
	// stops once every member answered.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	start := time.Now()
	res, err := caller.Broadcast(ctx, "whoami", nil)
	if err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("broadcast took %v; it must return once all members answered", took)
	}
	if len(res) != 3 {
		t.Fatalf("got %d results, want 3: %+v", len(res), res)
	}
	for i, want := range []string{"c0", "c1", "c2"} {
		var who map[string]string
		if res[i].Client != want || res[i].Err != nil || json.Unmarshal(res[i].Data, &who) != nil || who["cluster"] != want {
			t.Fatalf("result %d = %+v (%s); want %s's own answer", i, res[i], res[i].Data, want)
		}
	}

	// Per-cluster errors come back typed.
	res, err = caller.Broadcast(ctx, "fail", nil)
	if err != nil || len(res) != 3 {
		t.Fatalf("broadcast fail = %+v, %v", res, err)
	}
	for _, r := range res {
		if !errors.Is(r.Err, &ipc.Error{Code: "guild_not_found"}) {
			t.Fatalf("%s: %v; want its handler's code", r.Client, r.Err)
		}
	}
}

func TestBroadcastClusterKilledMidway(t *testing.T) {
	leaktest.Check(t)
	s := startServer(t, 0, "")
	started := make(chan string, 3)
	var victimConn *nats.Conn
	for _, c := range []string{"c0", "c1", "c2"} {
		r := testRouter(c, nil)
		if c == "c2" {
			r = testRouter(c, started)
		} else {
			r.HandleFunc("maybe_block", func(ctx context.Context, req *ipc.Request) (any, error) { return c, nil })
		}
		nc := connect(t, s.ClientURL())
		n, err := natsipc.New(nc, fast(c, r))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { n.Close() })
		if c == "c2" {
			victimConn = nc
			r.HandleFunc("maybe_block", func(ctx context.Context, req *ipc.Request) (any, error) {
				started <- c
				<-ctx.Done()
				return nil, ctx.Err()
			})
		}
	}
	caller := join(t, s.ClientURL(), natsipc.Config{})
	waitMembers(t, caller, "c0", "c1", "c2")

	// c2 dies (its connection drops without a goodbye) once its handler
	// has started: the broadcast reports it missing instead of waiting.
	go func() {
		if <-started == "c2" {
			victimConn.Close()
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	start := time.Now()
	res, err := caller.Broadcast(ctx, "maybe_block", nil)
	if err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Fatalf("broadcast took %v; a dead member must not be waited on", took)
	}
	if len(res) != 3 {
		t.Fatalf("got %+v, want 3 results", res)
	}
	for _, r := range res[:2] {
		var name string
		if r.Err != nil || json.Unmarshal(r.Data, &name) != nil || name != r.Client {
			t.Fatalf("%s: %+v; want its answer", r.Client, r)
		}
	}
	if res[2].Client != "c2" || !errors.Is(res[2].Err, ipc.ErrConnectionLost) || !errors.Is(res[2].Err, natsipc.ErrMissing) {
		t.Fatalf("c2: %+v; want connection lost / missing", res[2])
	}
	waitMembers(t, caller, "c0", "c1")
}

func TestBroadcastDeadlineMarksSilentMembers(t *testing.T) {
	leaktest.Check(t)
	s := startServer(t, 0, "")
	join(t, s.ClientURL(), fast("c0", testRouter("c0", nil)))
	slow := testRouter("c1", nil)
	join(t, s.ClientURL(), fast("c1", slow))
	caller := join(t, s.ClientURL(), natsipc.Config{})
	waitMembers(t, caller, "c0", "c1")

	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	// block answers on neither cluster before the deadline; both stay
	// alive, so both time out.
	res, err := caller.Broadcast(ctx, "block", nil)
	if err != nil || len(res) != 2 {
		t.Fatalf("broadcast = %+v, %v", res, err)
	}
	for _, r := range res {
		if !errors.Is(r.Err, ipc.ErrTimeout) || !errors.Is(r.Err, context.DeadlineExceeded) {
			t.Fatalf("%s: %v; want a timeout", r.Client, r.Err)
		}
	}
}

func TestShutdownLeavesAndHandsOver(t *testing.T) {
	leaktest.Check(t)
	s := startServer(t, 0, "")
	// a heartbeats hourly, so only its leave message can remove it soon.
	slowBeat := fast("a", testRouter("a", nil))
	slowBeat.Heartbeat = time.Hour
	a := join(t, s.ClientURL(), slowBeat)
	join(t, s.ClientURL(), fast("b", testRouter("b", nil)))
	caller := join(t, s.ClientURL(), natsipc.Config{})
	waitMembers(t, caller, "a", "b")

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := a.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	waitMembers(t, caller, "b")
	for range 20 {
		who, err := ipc.CallAs[map[string]string](ctx, caller, "whoami", nil)
		if err != nil || who["cluster"] != "b" {
			t.Fatalf("whoami after a left = %v, %v; want b to answer every time", who, err)
		}
	}
	if err := a.Shutdown(ctx); !errors.Is(err, ipc.ErrClosed) {
		t.Fatalf("second Shutdown: %v, want ErrClosed", err)
	}
}

// A node that has just joined learns the members with Discover, so its
// first Broadcast waits for all of them.
func TestDiscoverBeforeFirstBroadcast(t *testing.T) {
	leaktest.Check(t)
	s := startServer(t, 0, "")
	for _, c := range []string{"c0", "c1", "c2"} {
		join(t, s.ClientURL(), fast(c, testRouter(c, nil)))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for i := range 5 {
		caller := join(t, s.ClientURL(), natsipc.Config{})
		if got := caller.Discover(ctx, 50*time.Millisecond); len(got) != 3 {
			t.Fatalf("round %d: Discover = %v, want 3 members", i, got)
		}
		res, err := caller.Broadcast(ctx, "whoami", nil)
		if err != nil || len(res) != 3 {
			t.Fatalf("round %d: broadcast = %+v, %v; want 3 results", i, res, err)
		}
		caller.Close()
	}
}

// More clusters than a Broadcast scans linearly, one of them run by two
// processes: one result per cluster, sorted, the shared name once.
func TestBroadcastManyClustersAndSharedName(t *testing.T) {
	leaktest.Check(t)
	s := startServer(t, 0, "")
	var names []string
	for i := range 20 {
		names = append(names, fmt.Sprintf("c%02d", i))
	}
	// Default heartbeats: 21 nodes under -race on a loaded machine miss the
	// fast ones' 75 ms liveness window.
	for _, c := range names {
		join(t, s.ClientURL(), natsipc.Config{Cluster: c, Router: testRouter(c, nil)})
	}
	join(t, s.ClientURL(), natsipc.Config{Cluster: "c07", Router: testRouter("c07", nil)}) // a second process named c07
	caller := join(t, s.ClientURL(), natsipc.Config{})
	waitMembers(t, caller, names...)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for range 3 {
		res, err := caller.Broadcast(ctx, "whoami", nil)
		if err != nil || len(res) != len(names) {
			t.Fatalf("broadcast = %d results, %v; want %d", len(res), err, len(names))
		}
		for i, want := range names {
			var who map[string]string
			if res[i].Client != want || res[i].Err != nil || json.Unmarshal(res[i].Data, &who) != nil || who["cluster"] != want {
				t.Fatalf("result %d = %+v (%s); want %s's own answer", i, res[i], res[i].Data, want)
			}
		}
	}
}
