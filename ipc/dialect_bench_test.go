package ipc_test

import (
	"context"
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
			c := benchPair(b, d)
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
