package ipc_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ipcord/ipcord/internal/leaktest"
	"github.com/ipcord/ipcord/ipc"
)

func TestRouterHandle(t *testing.T) {
	r := ipc.NewRouter()
	h := ipc.HandlerFunc(func(context.Context, *ipc.Request) (any, error) { return nil, nil })
	must(t, r.Handle("guild.count:v2-x_y", h))
	// Any name a Python library accepts is a name: spaces, slashes,
	// non-ASCII, length.
	for _, name := range []string{"get stats", "guilds/count", "статистика", strings.Repeat("a", 300)} {
		must(t, r.Handle(name, h))
	}
	for _, bad := range []string{"", "/leading", "\xff"} {
		if err := r.Handle(bad, h); !errors.Is(err, ipc.ErrInvalidName) {
			t.Errorf("Handle(%q) = %v", bad, err)
		}
	}
	if err := r.Handle("nil", nil); !errors.Is(err, ipc.ErrBadHandler) {
		t.Errorf("a nil handler: %v, want ErrBadHandler", err)
	}
	if err := r.Handle("guild.count:v2-x_y", h); !errors.Is(err, ipc.ErrDuplicateRoute) {
		t.Errorf("duplicate: %v", err)
	}
	// HandleAll is all or nothing.
	if err := r.HandleAll(map[string]ipc.Handler{"ok": h, "": h}); err == nil {
		t.Fatal("HandleAll accepted an invalid name")
	}
	if _, ok := r.Lookup("ok"); ok {
		t.Fatal("HandleAll registered part of a failed batch")
	}
	if _, ok := r.Lookup("/guild.count:v2-x_y"); !ok {
		t.Fatal("leading slash not stripped")
	}
}

type cog struct{ prefix string }

type greetArgs struct {
	Name string `json:"name"`
}

func (c *cog) Greet(ctx context.Context, a greetArgs) (string, error) { return c.prefix + a.Name, nil }
func (c *cog) GuildCount(ctx context.Context, _ struct{}) (int, error) {
	return 3, nil
}
func (c *cog) GetHTTPStatus(ctx context.Context, _ struct{}) (int, error) { return 200, nil }

type badCog struct{}

func (badCog) Fine(ctx context.Context, _ struct{}) (int, error) { return 1, nil }
func (badCog) Helper() string                                    { return "not a route" }

func TestMethods(t *testing.T) {
	routes, err := ipc.Methods(&cog{prefix: "hi "})
	must(t, err)
	for _, name := range []string{"greet", "guild_count", "get_http_status"} {
		if routes[name] == nil {
			t.Fatalf("missing route %q in %v", name, routes)
		}
	}
	out, err := routes["greet"].ServeIPC(context.Background(), &ipc.Request{Route: "greet", Args: []byte(`{"name":"ann"}`)})
	if err != nil || out != "hi ann" {
		t.Fatalf("greet = %v, %v", out, err)
	}
	if _, err := routes["greet"].ServeIPC(context.Background(), &ipc.Request{Route: "greet", Args: []byte(`{"name":5}`)}); !errors.Is(err, ipc.ErrBadRequest) {
		t.Fatalf("bad args: %v", err)
	}
	if _, err := ipc.Methods(badCog{}); !errors.Is(err, ipc.ErrBadHandler) || !strings.Contains(err.Error(), "Helper") {
		t.Fatalf("a method of another shape must be ErrBadHandler, got %v", err)
	}
	for _, v := range []any{nil, struct{}{}} {
		if _, err := ipc.Methods(v); !errors.Is(err, ipc.ErrBadHandler) {
			t.Errorf("Methods(%#v) = %v, want ErrBadHandler", v, err)
		}
	}
}

// What Handler's documentation says of results, checked: a
// json.RawMessage travels as is, a []byte as a base64 string.
func TestHandlerResultBytes(t *testing.T) {
	leaktest.Check(t)
	r := ipc.NewRouter()
	r.HandleFunc("raw", func(context.Context, *ipc.Request) (any, error) { return json.RawMessage(`{"a":1}`), nil })
	r.HandleFunc("bytes", func(context.Context, *ipc.Request) (any, error) { return []byte(`{"a":1}`), nil })
	c := dial(t, ipc.ClientConfig{URL: startServer(t, &ipc.Server{Router: r, Secret: secret})})
	for route, want := range map[string]string{"raw": `{"a":1}`, "bytes": `"eyJhIjoxfQ=="`} {
		var got json.RawMessage
		if err := c.Call(ctxTimeout(t, 5*time.Second), route, nil, &got); err != nil || string(got) != want {
			t.Errorf("%s: %s %v, want %s", route, got, err, want)
		}
	}
}
