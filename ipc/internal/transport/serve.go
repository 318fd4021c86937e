package transport

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"time"

	gojson "github.com/goccy/go-json"
)

// Handler is ipc.Handler spelled over its request type R; an ipc.Handler
// is one.
type Handler[R any] interface {
	ServeIPC(ctx context.Context, req *R) (any, error)
}

// Hooks is ipc.Hooks spelled over its request type R, field for field, so
// that a *ipc.Hooks converts to a *Hooks[ipc.Request] at no cost (and stops
// compiling if the two ever differ).
type Hooks[R any] struct {
	OnRequest  func(ctx context.Context, req *R)
	OnComplete func(ctx context.Context, req *R, took time.Duration, err error)
	OnError    func(ctx context.Context, req *R, err error)
}

// Serve runs h for req the way every ipcord transport does, so a route
// behaves alike over WebSocket, the Python dialects and NATS: hooks (nil
// for none) before and after, a panic turned into handler_error (logged to
// logger, nil for none) instead of taking the process down, and the result
// encoded as JSON (encode_error when it cannot be). It returns the encoded
// result, or the error to answer with. route and peer are req's, for
// messages and the log. ctx carries req under RequestKey when it is not
// already req's Context. validRaw checks a json.RawMessage result; nil
// means it must be JSON (a transport whose peers read more, such as
// Python's JSON, passes its own check).
//
// E is ipc.Error, named by type parameter because ipc imports this package.
func Serve[R any, E ErrorShape, P ErrorPtr[E]](ctx context.Context, h Handler[R], req *R, route, peer string, hooks *Hooks[R], logger *slog.Logger, validRaw func([]byte) bool) (data []byte, err error) {
	if r, _ := ctx.Value(RequestKey{}).(*R); r != req {
		ctx = context.WithValue(ctx, RequestKey{}, req)
	}
	var start time.Time
	if hooks != nil {
		start = time.Now()
		defer func() { hooks.after(ctx, req, route, time.Since(start), err, logger) }()
	}
	defer func() {
		if p := recover(); p != nil {
			if logger != nil {
				logger.Error("ipc: handler panicked", "route", route, "peer", peer, "panic", p, "stack", string(debug.Stack()))
			}
			data, err = nil, newError[E, P](CodeHandlerError, fmt.Sprintf("handler for %q panicked", route))
		}
	}()
	if hooks != nil && hooks.OnRequest != nil {
		guard(logger, "OnRequest", route, func() { hooks.OnRequest(ctx, req) })
	}
	v, err := h.ServeIPC(ctx, req)
	if err != nil {
		return nil, err
	}
	return encodeResult[E, P](route, v, validRaw)
}

// Refused shows hooks (nil for none) a request answered without running
// a handler (an unknown route, overload, shutdown), so that OnRequest sees
// every request, as discord_tools' on_raw_ipc_request does; err is the
// answer it got, for OnError and OnComplete.
func Refused[R any](req *R, route string, err error, hooks *Hooks[R], logger *slog.Logger) {
	if hooks == nil {
		return
	}
	ctx := context.WithValue(context.Background(), RequestKey{}, req)
	if hooks.OnRequest != nil {
		guard(logger, "OnRequest", route, func() { hooks.OnRequest(ctx, req) })
	}
	hooks.after(ctx, req, route, 0, err, logger)
}

// after runs the hooks that follow a request: OnError when it failed,
// then OnComplete.
func (hooks *Hooks[R]) after(ctx context.Context, req *R, route string, took time.Duration, err error, logger *slog.Logger) {
	if err != nil && hooks.OnError != nil {
		guard(logger, "OnError", route, func() { hooks.OnError(ctx, req, err) })
	}
	if hooks.OnComplete != nil {
		guard(logger, "OnComplete", route, func() { hooks.OnComplete(ctx, req, took, err) })
	}
}

// guard runs one hook; a panic in it is logged, as a handler's is, and
// goes no further: a hook only observes, so the request's outcome stands
// and the process lives on.
func guard(logger *slog.Logger, hook, route string, f func()) {
	defer func() {
		if p := recover(); p != nil && logger != nil {
			logger.Error("ipc: hook panicked", "hook", hook, "route", route, "panic", p, "stack", string(debug.Stack()))
		}
	}()
	f()
}

// The JSON codec is ipc's (goccy/go-json; ipc/json.go says why).
func encodeResult[E ErrorShape, P ErrorPtr[E]](route string, v any, validRaw func([]byte) bool) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case json.RawMessage:
		if validRaw == nil {
			validRaw = gojson.Valid
		}
		if !validRaw(x) {
			return nil, newError[E, P](CodeEncodeError, fmt.Sprintf("route %q returned invalid raw JSON", route))
		}
		return x, nil
	}
	b, err := gojson.Marshal(v)
	if err != nil {
		return nil, newError[E, P](CodeEncodeError, fmt.Sprintf("route %q: result cannot be encoded: %v", route, err))
	}
	return b, nil
}

// EncodeArgs encodes a call's args as every caller does: nil is no args,
// a json.RawMessage is checked and sent as is, anything else is
// marshalled; what cannot be encoded is a bad_request *E.
func EncodeArgs[E ErrorShape, P ErrorPtr[E]](args any) ([]byte, error) {
	switch a := args.(type) {
	case nil:
		return nil, nil
	case json.RawMessage:
		if len(a) == 0 {
			return nil, nil
		}
		if !gojson.Valid(a) {
			return nil, newError[E, P](CodeBadRequest, "args are not valid JSON")
		}
		return a, nil
	}
	b, err := gojson.Marshal(args)
	if err != nil {
		return nil, newError[E, P](CodeBadRequest, fmt.Sprintf("args cannot be encoded: %v", err))
	}
	return b, nil
}

// ContextError turns a finished context into the error a caller gets: it
// matches both the context's own error and the code (timeout or canceled).
func ContextError[E ErrorShape, P ErrorPtr[E]](ctx context.Context) error {
	cause := context.Cause(ctx)
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("%w: %w", newError[E, P](CodeTimeout, ""), cause)
	}
	return fmt.Errorf("%w: %w", newError[E, P](CodeCanceled, ""), cause)
}

// ValidName reports whether name is a valid route name:
// [A-Za-z0-9_.:-]{1,64}, so it can also be a NATS subject token.
func ValidName(name string) bool {
	if len(name) == 0 || len(name) > 64 {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == ':' || c == '-') {
			return false
		}
	}
	return true
}
