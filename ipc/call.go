package ipc

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"github.com/ipcord/ipcord/ipc/internal/transport"
	"time"
	"unicode/utf8"
)

// Caller calls routes on a peer: a Client calls its server, a handler's
// Request.Caller calls back whoever called it, and Server.Client(id) calls a
// connected client.
type Caller interface {
	// Call calls route with args encoded as JSON (nil sends null; a
	// json.RawMessage is sent as is) and decodes the result into out (nil
	// discards it). Without a deadline on ctx the caller's default timeout
	// applies. Failures are typed: *Error for the remote side's errors,
	// ErrNotConnected, ErrConnectionLost, ErrTimeout/ErrCanceled (which
	// also match the context's error).
	Call(ctx context.Context, route string, args, out any) error
}

// CallAs calls route on c and returns the result decoded as R.
func CallAs[R any](ctx context.Context, c Caller, route string, args any) (R, error) {
	var r R
	err := c.Call(ctx, route, args, &r)
	return r, err
}

type metaKey struct{}

// WithMeta returns a context whose calls carry meta (tracing ids and the
// like) to the handler, which sees it as Request.Meta.
func WithMeta(ctx context.Context, meta map[string]string) context.Context {
	return context.WithValue(ctx, metaKey{}, meta)
}

// MetaFrom returns the metadata WithMeta put in ctx, for transports that
// carry it to the handler.
func MetaFrom(ctx context.Context) map[string]string {
	m, _ := ctx.Value(metaKey{}).(map[string]string)
	return m
}

// wireKind is what a call's transport can carry.
type wireKind int

const (
	// nativeWire: route names as NATS subjects take them, any JSON args.
	nativeWire wireKind = iota
	// dialectWire: the Python libraries' rules: any non-empty string is a
	// route name, and args are keyword arguments, so a JSON object.
	dialectWire
)

// callWith is the part of every Call that does not depend on the
// transport: checking the route name and args against what the wire can
// carry, encoding args and decoding the result. do gets the default
// timeout when ctx has no deadline (0 when it has one) and must apply it:
// a timer there is cheaper than a derived context on every call.
func callWith(ctx context.Context, kind wireKind, timeout time.Duration, route string, args, out any, do func(context.Context, []byte, time.Duration) ([]byte, error)) error {
	if kind == nativeWire && !transport.ValidName(trimSlash(route)) {
		return fmt.Errorf("%w: %q cannot travel on the native protocol or NATS (%s)", ErrInvalidName, route, nativeNameRule)
	}
	if kind == dialectWire && !dialectName(route) {
		return fmt.Errorf("%w: %q: a route name is a non-empty UTF-8 string", ErrInvalidName, route)
	}
	a, err := encodeArgs(args)
	if err != nil {
		return err
	}
	if kind == dialectWire && !isObjectOrNull(a) {
		// Python spreads them into the route's keyword arguments.
		return &Error{Code: CodeBadRequest, Message: "a Python dialect's arguments are keyword arguments: a JSON object (or none)"}
	}
	if _, ok := ctx.Deadline(); ok {
		timeout = 0
	}
	data, err := do(ctx, a, timeout)
	if err != nil {
		return err
	}
	if out == nil {
		return nil
	}
	if raw, ok := out.(*json.RawMessage); ok {
		*raw = data
		return nil
	}
	if len(data) == 0 {
		data = []byte("null")
	}
	err = unmarshal(data, out)
	if err != nil && mayHaveNonFinite(data) {
		// A Python route's NaN or Infinity: off the path of every other call.
		err = unmarshalPython(data, out)
	}
	if err != nil {
		return fmt.Errorf("ipc: decoding the result of %q into %T: %w", route, out, err)
	}
	return nil
}

func trimSlash(s string) string {
	if len(s) > 0 && s[0] == '/' {
		return s[1:]
	}
	return s
}

// nativeNameRule is the route-name rule of the native protocol and NATS,
// where a name is also a NATS subject token.
const nativeNameRule = "[A-Za-z0-9_.:-]{1,64}"

// dialectName reports whether name can be a route of a Python dialect:
// any non-empty string (Python's own rule), once a leading '/' is gone.
func dialectName(name string) bool {
	name = trimSlash(name)
	return name != "" && utf8.ValidString(name)
}

// isObjectOrNull reports whether encoded args are absent, null or an
// object.
func isObjectOrNull(a []byte) bool {
	a = bytes.TrimLeft(a, " \t\r\n")
	return len(a) == 0 || a[0] == '{' || string(bytes.TrimRight(a, " \t\r\n")) == "null"
}
