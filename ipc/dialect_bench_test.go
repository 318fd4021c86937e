package ipc_test

import (
	"context"
	"net"
	"testing"

	"github.com/ipcord/ipcord/ipc"
)

// BenchmarkDialectCall is BenchmarkCall's round trip in each dialect, Go
// client to Go server over loopback: what speaking a Python library's
// wire costs against the native protocol.
func BenchmarkDialectCall(b *testing.B) {
	for _, d := range []ipc.Dialect{ipc.Native, ipc.ExtIPC, ipc.BetterIPC, ipc.Zonis} {
		name := string(d)
		if d == ipc.Native {
			name = "native"
		}
		b.Run(name, func(b *testing.B) {
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
			defer srv.Shutdown(context.Background())
			c, err := ipc.Dial(context.Background(), ipc.ClientConfig{URL: "ws://" + ln.Addr().String(), Secret: "b", Dialect: d})
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			ctx := context.Background()
			var out pingResult
			b.ReportAllocs()
			for b.Loop() {
				if err := c.Call(ctx, "ping", pingArgs{N: 1}, &out); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
