package ipc_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ipcord/ipcord/internal/leaktest"
	"github.com/ipcord/ipcord/ipc"
)

// stubbornRouter's "stuck" route ignores its context until release is
// closed, the worst a handler can do; it counts the handlers running and
// those whose context has ended.
func stubbornRouter(t *testing.T, running, ended *atomic.Int32, release chan struct{}) *ipc.Router {
	r := ipc.NewRouter()
	err := r.HandleFunc("stuck", func(ctx context.Context, req *ipc.Request) (any, error) {
		running.Add(1)
		defer running.Add(-1)
		context.AfterFunc(ctx, func() { ended.Add(1) })
		<-release
		return nil, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// Requests reusing the id of a running one, or of one just canceled whose
// handler still runs, never get past MaxInFlight; and the handlers of a
// client that leaves all see their context end.
func TestInFlightCapHoldsAgainstReusedIDs(t *testing.T) {
	leaktest.Check(t)
	var running, ended atomic.Int32
	release := make(chan struct{})
	defer close(release)
	const cap = 8
	srv := &ipc.Server{Router: stubbornRouter(t, &running, &ended, release), Secret: secret, MaxInFlight: cap}
	u := startServer(t, srv)
	rc := helloed(t, u, "dup")

	// 200 requests with one id: one runs, the others are refused.
	for range 200 {
		rc.send(`{"t":"req","id":1,"route":"stuck"}`)
	}
	for i := range 199 {
		if m := rc.recvJSON(); m["t"] != "err" || m["code"] != ipc.CodeBadRequest || m["id"] != 1.0 {
			t.Fatalf("duplicate %d answered %v", i, m)
		}
	}
	waitFor(t, 5*time.Second, "the first request to run", func() bool { return running.Load() == 1 })

	// Cancel and reuse, over and over: every handler keeps running (it
	// ignores its context), so past the cap the answer is overloaded.
	overloaded := 0
	for i := range 100 {
		rc.send(`{"t":"cancel","id":1}`)
		rc.send(`{"t":"req","id":1,"route":"stuck"}`)
		if i >= cap-1 {
			if m := rc.recvJSON(); m["code"] != ipc.CodeOverloaded {
				t.Fatalf("request %d past the cap answered %v", i, m)
			}
			overloaded++
		}
	}
	waitFor(t, 5*time.Second, "the cap to fill", func() bool { return running.Load() == cap })
	if n := running.Load(); n != cap {
		t.Fatalf("%d handlers running, cap %d", n, cap)
	}

	// The client leaves: every handler it started sees its context end,
	// the canceled ones and the one still in flight alike.
	rc.nc.Close()
	waitFor(t, 5*time.Second, "every handler's context to end", func() bool { return ended.Load() == cap })
}

// A request's own timeout_ms is capped by MaxRequestTimeout.
func TestMaxRequestTimeout(t *testing.T) {
	leaktest.Check(t)
	r := ipc.NewRouter()
	r.HandleFunc("deadline", func(ctx context.Context, req *ipc.Request) (any, error) {
		dl, _ := ctx.Deadline()
		return time.Until(dl).Milliseconds(), nil
	})
	for _, tc := range []struct {
		max     time.Duration
		asked   string
		atMost  int64
		atLeast int64
	}{
		{0, "1000000000000000", (5 * time.Minute).Milliseconds(), (5*time.Minute - time.Minute).Milliseconds()},
		{time.Second, "9007199254740991", 1000, 0},
		{time.Hour, "2000", 2000, 1000},
	} {
		t.Run(fmt.Sprint(tc.max, "/", tc.asked), func(t *testing.T) {
			srv := &ipc.Server{Router: r, Secret: secret, MaxRequestTimeout: tc.max}
			u := startServer(t, srv)
			rc := helloed(t, u, "late")
			rc.send(`{"t":"req","id":1,"route":"deadline","timeout_ms":` + tc.asked + `}`)
			m := rc.recvJSON()
			left, ok := m["data"].(float64)
			if !ok || int64(left) > tc.atMost || int64(left) < tc.atLeast {
				t.Fatalf("handler's deadline %v ms away, want %d..%d", m["data"], tc.atLeast, tc.atMost)
			}
		})
	}
}
