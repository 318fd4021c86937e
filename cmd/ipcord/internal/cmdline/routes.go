package cmdline

import (
	"context"
	"errors"
	"maps"
	"time"

	"github.com/ipcord/ipcord/ipc"
)

// DiagnosticRouter holds the routes `serve` offers for trying a connection
// out: ping ({n} → {"ok":true,"n":n} plus the fields of about, such as the
// cluster that answered), echo (its args), sleep ({ms} → waits, honouring
// cancellation, then {"slept_ms":ms}) and fail (a handler error).
func DiagnosticRouter(about map[string]any) *ipc.Router {
	r := ipc.NewRouter()
	r.Handle("ping", ipc.Func(func(ctx context.Context, a struct {
		N int `json:"n"`
	}) (map[string]any, error) {
		out := map[string]any{"ok": true, "n": a.N}
		maps.Copy(out, about)
		return out, nil
	}))
	r.HandleFunc("echo", func(ctx context.Context, req *ipc.Request) (any, error) {
		return req.Args, nil
	})
	r.Handle("sleep", ipc.Func(func(ctx context.Context, a struct {
		MS int `json:"ms"`
	}) (map[string]int, error) {
		t := time.NewTimer(time.Duration(a.MS) * time.Millisecond)
		defer t.Stop()
		select {
		case <-t.C:
			return map[string]int{"slept_ms": a.MS}, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}))
	r.HandleFunc("fail", func(ctx context.Context, req *ipc.Request) (any, error) {
		return nil, errors.New("this route always fails")
	})
	return r
}
