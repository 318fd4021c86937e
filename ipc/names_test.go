package ipc_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/ipcord/ipcord/internal/leaktest"
	"github.com/ipcord/ipcord/ipc"
)

// Route names a Python bot has are registered and called from Go on every
// dialect; the native protocol keeps its stricter rule, and fails such a
// name with a clear error there, not everywhere.
func TestPythonRouteNames(t *testing.T) {
	leaktest.Check(t)
	_, u, _ := dialectServer(t, nil)
	names := []string{"get stats", "guilds/count", "статистика"}
	for _, d := range []ipc.Dialect{ipc.ExtIPC, ipc.BetterIPC, ipc.Zonis} {
		c := dialDialect(t, d, u)
		for _, name := range names {
			got, err := ipc.CallAs[string](ctxTimeout(t, 5*time.Second), c, name, nil)
			if err != nil || got != name {
				t.Errorf("%s: %q = %q, %v", d, name, got, err)
			}
		}
	}
	c := dial(t, ipc.ClientConfig{URL: u})
	err := c.Call(ctxTimeout(t, 5*time.Second), "get stats", nil, nil)
	if !errors.Is(err, ipc.ErrInvalidName) {
		t.Fatalf("native call of %q: %v, want ErrInvalidName", "get stats", err)
	}
	routes, err := c.Routes(ctxTimeout(t, 5*time.Second))
	if err != nil || slices.Contains(routes, "get stats") || !slices.Contains(routes, "hello") {
		t.Fatalf("native hello announced %v, %v", routes, err)
	}
	rc := helloed(t, u, "raw")
	rc.send(`{"t":"req","id":1,"route":"get stats"}`)
	if m := rc.recvJSON(); m["code"] != ipc.CodeUnknownRoute {
		t.Fatalf("native request for a dialect-only name answered %v", m)
	}
	// Dialect args are keyword arguments: anything but an object is
	// refused before it is sent.
	ext := dialDialect(t, ipc.ExtIPC, u)
	if err := ext.Call(ctxTimeout(t, 5*time.Second), "echo", []int{1, 2}, nil); !errors.Is(err, ipc.ErrBadRequest) {
		t.Fatalf("list args on ext-ipc: %v, want bad_request", err)
	}
	if err := ext.Call(context.Background(), "", nil, nil); !errors.Is(err, ipc.ErrInvalidName) {
		t.Fatalf("empty name: %v", err)
	}
}
