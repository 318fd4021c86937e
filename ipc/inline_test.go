package ipc_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ipcord/ipcord/internal/leaktest"
	"github.com/ipcord/ipcord/internal/wsproto"
	"github.com/ipcord/ipcord/ipc"
)

// The read loop runs fast routes' handlers itself. A route is fast until a
// handler proves otherwise, so the first call of a handler that blocks
// runs there: the connection's other calls must still be served, and
// their replies, held while the loop worked through a batch, must still
// be written.
func TestBlockedInlineHandlerDoesNotHoldUpOthers(t *testing.T) {
	leaktest.Check(t)
	release := make(chan struct{})
	var blocked atomic.Int32
	r := ipc.NewRouter()
	must(t, r.Handle("add", ipc.Func(func(ctx context.Context, a addArgs) (int, error) { return a.A + a.B, nil })))
	must(t, r.HandleFunc("wait", func(ctx context.Context, req *ipc.Request) (any, error) {
		blocked.Add(1)
		defer blocked.Add(-1)
		<-release // ignores its context: the worst a handler can do
		return "released", nil
	}))
	u := startServer(t, &ipc.Server{Router: r, Secret: secret})
	rc := helloed(t, u, "batch")
	// Warm add up, so that its handlers surely run inline.
	for i := range 20 {
		rc.send(fmt.Sprintf(`{"t":"req","id":%d,"route":"add","args":{"a":%d,"b":1}}`, i+1, i))
		if m := rc.recvJSON(); m["t"] != "res" || m["data"] != float64(i+1) {
			t.Fatalf("add %d answered %v", i, m)
		}
	}

	// One write: five adds, whose replies the loop holds, then the
	// handler that blocks, then five more adds.
	var batch []string
	for i := range 5 {
		batch = append(batch, fmt.Sprintf(`{"t":"req","id":%d,"route":"add","args":{"a":%d,"b":1}}`, 100+i, i))
	}
	batch = append(batch, `{"t":"req","id":200,"route":"wait"}`)
	for i := range 5 {
		batch = append(batch, fmt.Sprintf(`{"t":"req","id":%d,"route":"add","args":{"a":%d,"b":2}}`, 300+i, i))
	}
	var frames []byte
	for _, f := range batch {
		frames = wsproto.AppendFrame(frames, wsproto.Client, wsproto.OpText, true, false, wsproto.MaskKey(), []byte(f))
	}
	rc.nc.Write(frames)
	got := map[float64]any{}
	for range 10 {
		m := rc.recvJSON()
		if m["t"] != "res" {
			t.Fatalf("answered %v while wait blocked", m)
		}
		got[m["id"].(float64)] = m["data"]
	}
	for i := range 5 {
		if got[float64(100+i)] != float64(i+1) || got[float64(300+i)] != float64(i+2) {
			t.Fatalf("answers %v", got)
		}
	}
	if blocked.Load() != 1 {
		t.Fatalf("%d wait handlers running, want 1 (still blocked)", blocked.Load())
	}

	// The route that blocked now runs off the read loop: a second blocked
	// call holds up nothing either.
	rc.send(`{"t":"req","id":201,"route":"wait"}`)
	waitFor(t, 5*time.Second, "the second wait to run", func() bool { return blocked.Load() == 2 })
	rc.send(`{"t":"req","id":400,"route":"add","args":{"a":1,"b":1}}`)
	if m := rc.recvJSON(); m["id"] != 400.0 || m["data"] != 2.0 {
		t.Fatalf("add after the second wait answered %v", m)
	}
	close(release)
	for range 2 {
		if m := rc.recvJSON(); m["data"] != "released" {
			t.Fatalf("wait answered %v", m)
		}
	}
}

// A handler that calls back its caller over the same connection waits for
// a reply only a read loop can read: run inline, another loop takes over
// as it calls, and the route's later calls run off the read loop.
func TestInlineHandlerCallsBack(t *testing.T) {
	leaktest.Check(t)
	r := ipc.NewRouter()
	must(t, r.HandleFunc("relay", func(ctx context.Context, req *ipc.Request) (any, error) {
		var s string
		err := req.Caller.Call(ctx, "shout", req.Args, &s)
		return s, err
	}))
	u := startServer(t, &ipc.Server{Router: r, Secret: secret})
	back := ipc.NewRouter()
	must(t, back.Handle("shout", ipc.Func(func(ctx context.Context, s string) (string, error) { return strings.ToUpper(s), nil })))
	c := dial(t, ipc.ClientConfig{URL: u, Router: back})
	ctx := ctxTimeout(t, 10*time.Second)
	for i := range 3 {
		got, err := ipc.CallAs[string](ctx, c, "relay", fmt.Sprint("hi ", i))
		if err != nil || got != fmt.Sprint("HI ", i) {
			t.Fatalf("relay %d: %q, %v", i, got, err)
		}
	}
}

// A cancel frame reaches a handler running on the read loop: the loop is
// stuck in that handler, so the frame is read by the loop that takes over.
// (A route's first call runs inline: it is fast until proven slow.)
func TestCancelReachesInlineHandler(t *testing.T) {
	leaktest.Check(t)
	ended := make(chan error, 1)
	arrived := make(chan string, 1)
	r := ipc.NewRouter()
	must(t, r.HandleFunc("hold", func(ctx context.Context, req *ipc.Request) (any, error) {
		<-ctx.Done()
		ended <- ctx.Err()
		return nil, ctx.Err()
	}))
	u := startServer(t, &ipc.Server{Router: r, Secret: secret, Hooks: arrivals(arrived)})
	c := dial(t, ipc.ClientConfig{URL: u})
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-arrived; cancel() }()
	if err := c.Call(ctx, "hold", nil, nil); !errors.Is(err, ipc.ErrCanceled) {
		t.Fatalf("call: %v, want ErrCanceled", err)
	}
	select {
	case err := <-ended:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("handler saw %v, want Canceled (from the cancel frame)", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the cancel frame never reached the inline handler")
	}
}
