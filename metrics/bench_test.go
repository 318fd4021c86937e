package metrics_test

import (
	"context"
	"testing"
	"time"

	"github.com/ipcord/ipcord/ipc"
	"github.com/ipcord/ipcord/metrics"
)

// BenchmarkIPCHooks is what recording one IPC call costs the request's
// goroutine: a route lookup, a counter and a histogram.
func BenchmarkIPCHooks(b *testing.B) {
	rec, err := metrics.New(metrics.Config{})
	if err != nil {
		b.Fatal(err)
	}
	r := ipc.NewRouter()
	r.Handle("ping", ipc.Func(func(ctx context.Context, _ struct{}) (string, error) { return "pong", nil }))
	h := rec.IPCHooks("bot", r, nil)
	req := &ipc.Request{Route: "ping"}
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			h.OnComplete(ctx, req, 300*time.Microsecond, nil)
		}
	})
}
