package ipc

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/ipcord/ipcord/ipc/internal/transport"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
)

// Handler serves one route. The returned value is encoded as JSON for the
// caller; a json.RawMessage is sent as is (it must hold valid JSON, or the
// call fails with encode_error; to a Python dialect's peer, Python's JSON,
// so a route may echo the NaN and Infinity its args came with). A []byte
// is not raw JSON: like any value, it is JSON-encoded, which makes it a
// base64 string (what Python's clients then see is that string). A
// returned error fails the call (an *Error keeps its code).
type Handler interface {
	ServeIPC(ctx context.Context, req *Request) (any, error)
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(ctx context.Context, req *Request) (any, error)

// ServeIPC calls f.
func (f HandlerFunc) ServeIPC(ctx context.Context, req *Request) (any, error) { return f(ctx, req) }

// Request is one incoming call as a handler sees it.
type Request struct {
	// Route is the name the caller called (without a leading '/').
	Route string
	// Args is the raw JSON arguments ("null" when none were given). From
	// a Python peer it is JSON as Python writes it, which may hold NaN,
	// Infinity and -Infinity: Decode (and Func, Methods) reads those.
	Args json.RawMessage
	// Meta is the caller's free-form metadata (tracing ids), may be nil.
	Meta map[string]string
	// Peer is the identifier of the caller: a client's identifier on the
	// server, the server's name on a client.
	Peer string
	// Caller calls routes on the peer that made this request (the way back),
	// or is nil when the transport is one-way.
	Caller Caller
}

// RequestFrom returns the request being served from a handler's context, so
// typed handlers (Func, Methods) can still see the caller and metadata.
func RequestFrom(ctx context.Context) (*Request, bool) {
	r, ok := ctx.Value(transport.RequestKey{}).(*Request)
	return r, ok
}

// Router holds named routes, independent of any transport: one Router can be
// served over WebSocket, NATS, and the Python dialects at once. It is safe
// for concurrent use; routes may be added while serving.
type Router struct {
	mu     sync.Mutex // serializes writers
	routes atomic.Pointer[map[string]Handler]
}

// NewRouter returns an empty Router.
func NewRouter() *Router { return &Router{} }

// Handle registers h under name; a name already registered is an error.
// Any non-empty UTF-8 string without a leading '/' is a name, as in the
// Python libraries ("get stats", "guilds/count", non-ASCII), and the
// Python dialects reach every route. The native protocol and NATS carry
// only names matching [A-Za-z0-9_.:-]{1,64} (a NATS subject token): other
// routes are not announced there, and calling one there fails with
// ErrInvalidName.
func (r *Router) Handle(name string, h Handler) error {
	return r.HandleAll(map[string]Handler{name: h})
}

// HandleFunc registers f under name, like Handle.
func (r *Router) HandleFunc(name string, f func(context.Context, *Request) (any, error)) error {
	return r.Handle(name, HandlerFunc(f))
}

// HandleAll registers several routes at once: either all of them or, on
// error, none.
func (r *Router) HandleAll(routes map[string]Handler) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	var cur map[string]Handler
	if p := r.routes.Load(); p != nil {
		cur = *p
	}
	next := maps.Clone(cur)
	if next == nil {
		next = make(map[string]Handler, len(routes))
	}
	for _, name := range slices.Sorted(maps.Keys(routes)) {
		h := routes[name]
		if !dialectName(name) || name[0] == '/' {
			return fmt.Errorf("%w: %q: a route name is a non-empty UTF-8 string without a leading '/'", ErrInvalidName, name)
		}
		if h == nil {
			return fmt.Errorf("%w: nil for route %q", ErrBadHandler, name)
		}
		if _, dup := next[name]; dup {
			return fmt.Errorf("%w: %q", ErrDuplicateRoute, name)
		}
		next[name] = h
	}
	r.routes.Store(&next)
	return nil
}

// Lookup returns the handler for name; a leading '/' (as the Python
// libraries send) is ignored.
func (r *Router) Lookup(name string) (Handler, bool) {
	if len(name) > 0 && name[0] == '/' {
		name = name[1:]
	}
	p := r.routes.Load()
	if p == nil {
		return nil, false
	}
	h, ok := (*p)[name]
	return h, ok
}

// Routes returns the registered route names, sorted.
func (r *Router) Routes() []string {
	p := r.routes.Load()
	if p == nil {
		return []string{}
	}
	return slices.Sorted(maps.Keys(*p))
}

// nativeRoutes returns the routes the native protocol can name, sorted:
// what a hello announces.
func (r *Router) nativeRoutes() []string {
	return slices.DeleteFunc(r.Routes(), func(name string) bool { return !transport.ValidName(name) })
}
