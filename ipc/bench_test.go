package ipc_test

import (
	"context"
	"encoding/json"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/ipcord/ipcord/ipc"
)

type pingArgs struct {
	N int `json:"n"`
}

type pingResult struct {
	OK bool `json:"ok"`
	N  int  `json:"n"`
}

// benchPair serves a ping route on loopback and dials it in dialect d, for
// benchmarks.
func benchPair(b *testing.B, d ipc.Dialect) *ipc.Client {
	r := ipc.NewRouter()
	r.Handle("ping", ipc.Func(func(ctx context.Context, a pingArgs) (pingResult, error) {
		return pingResult{OK: true, N: a.N}, nil
	}))
	srv := &ipc.Server{Router: r, Secret: "b"}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go srv.Serve(ln)
	b.Cleanup(func() { srv.Shutdown(context.Background()) })
	c, err := ipc.Dial(context.Background(), ipc.ClientConfig{URL: "ws://" + ln.Addr().String(), Secret: "b", Dialect: d})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	return c
}

// BenchmarkCall is one call at a time over loopback: the latency of a
// round trip through both sides. Allocations count both sides, since both
// run in this process.
func BenchmarkCall(b *testing.B) {
	c := benchPair(b, ipc.Native)
	ctx := context.Background()
	var out pingResult
	b.ReportAllocs()
	for b.Loop() {
		if err := c.Call(ctx, "ping", pingArgs{N: 1}, &out); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCall32InFlight keeps 32 calls in flight on one connection.
func BenchmarkCall32InFlight(b *testing.B) {
	c := benchPair(b, ipc.Native)
	ctx := context.Background()
	b.ReportAllocs()
	b.SetParallelism(16) // × GOMAXPROCS(2) = 32 goroutines
	b.RunParallel(func(pb *testing.PB) {
		var out pingResult
		for pb.Next() {
			if err := c.Call(ctx, "ping", pingArgs{N: 1}, &out); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkCallRaw skips typed encoding on the caller's side.
func BenchmarkCallRaw(b *testing.B) {
	c := benchPair(b, ipc.Native)
	ctx := context.Background()
	args := json.RawMessage(`{"n":1}`)
	var out json.RawMessage
	b.ReportAllocs()
	var once sync.Once
	for b.Loop() {
		if err := c.Call(ctx, "ping", args, &out); err != nil {
			once.Do(func() { b.Fatal(err) })
		}
	}
}

// BenchmarkCallDeadline is BenchmarkCall with a context of its own per
// call, as `ipcord bench` makes them: a call waits on it.
func BenchmarkCallDeadline(b *testing.B) {
	c := benchPair(b, ipc.Native)
	var out pingResult
	b.ReportAllocs()
	for b.Loop() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err := c.Call(ctx, "ping", pingArgs{N: 1}, &out)
		cancel()
		if err != nil {
			b.Fatal(err)
		}
	}
}
