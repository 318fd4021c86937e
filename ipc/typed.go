package ipc

import (
	"context"
	"fmt"
	"github.com/ipcord/ipcord/ipc/internal/transport"
	"reflect"
	"strings"
	"unicode"
)

// Func turns a typed function into a Handler: the call's args are decoded
// into A (no args or null give A's zero value), and the returned R is
// encoded as the result. Args that do not fit A fail the call with
// bad_request, and f is not called.
func Func[A, R any](f func(ctx context.Context, args A) (R, error)) Handler {
	return HandlerFunc(func(ctx context.Context, req *Request) (any, error) {
		var a A
		if err := req.Decode(&a); err != nil {
			return nil, err
		}
		return f(ctx, a)
	})
}

// Decode decodes the request's args into v (a pointer), as Func does for
// its A: no args or null leave v as it is, args that do not fit are a
// bad_request *Error. A Python peer's NaN, Infinity and -Infinity land in
// float and interface values; anywhere else they do not fit, and the
// message says where.
func (req *Request) Decode(v any) error {
	if len(req.Args) == 0 || string(req.Args) == "null" {
		return nil
	}
	err := unmarshal(req.Args, v)
	if err != nil && mayHaveNonFinite(req.Args) {
		// A Python peer's NaN or Infinity: off the path of every other call.
		err = unmarshalPython(req.Args, v)
	}
	if err != nil {
		return &Error{Code: CodeBadRequest, Message: fmt.Sprintf("route %q: args do not fit: %v", req.Route, err)}
	}
	return nil
}

var (
	contextType = reflect.TypeFor[context.Context]()
	errorType   = reflect.TypeFor[error]()
)

// Methods returns a route for each exported method of v, named in
// snake_case (GuildCount → guild_count), which is what the Python libraries
// call a cog's routes. Every exported method must have the shape
// func(context.Context, A) (R, error); any other exported method is an
// error rather than silently skipped. Register the result with
// Router.HandleAll.
func Methods(v any) (map[string]Handler, error) {
	rv := reflect.ValueOf(v)
	if !rv.IsValid() {
		return nil, fmt.Errorf("%w: Methods(nil)", ErrBadHandler)
	}
	rt := rv.Type()
	routes := make(map[string]Handler, rt.NumMethod())
	for i := range rt.NumMethod() {
		m := rt.Method(i)
		mt := m.Type // includes the receiver as In(0)
		if mt.NumIn() != 3 || mt.In(1) != contextType || mt.NumOut() != 2 || mt.Out(1) != errorType {
			return nil, fmt.Errorf("%w: method %s.%s has type %s; want func(context.Context, A) (R, error)", ErrBadHandler, rt, m.Name, mt)
		}
		name := snakeCase(m.Name)
		if !transport.ValidName(name) {
			return nil, fmt.Errorf("%w: %q from method %s", ErrInvalidName, name, m.Name)
		}
		if _, dup := routes[name]; dup {
			return nil, fmt.Errorf("%w: %q from method %s", ErrDuplicateRoute, name, m.Name)
		}
		routes[name] = methodHandler(rv.Method(i), mt.In(2))
	}
	if len(routes) == 0 {
		return nil, fmt.Errorf("%w: %s has no exported methods", ErrBadHandler, rt)
	}
	return routes, nil
}

func methodHandler(fn reflect.Value, argType reflect.Type) Handler {
	return HandlerFunc(func(ctx context.Context, req *Request) (any, error) {
		arg := reflect.New(argType)
		if err := req.Decode(arg.Interface()); err != nil {
			return nil, err
		}
		out := fn.Call([]reflect.Value{reflect.ValueOf(ctx), arg.Elem()})
		err, _ := out[1].Interface().(error)
		return out[0].Interface(), err
	})
}

// snakeCase converts a Go identifier to snake_case, keeping initialisms
// together: GuildCount → guild_count, GetHTTPStatus → get_http_status.
func snakeCase(s string) string {
	rs := []rune(s)
	var b strings.Builder
	for i, r := range rs {
		if unicode.IsUpper(r) {
			prevLower := i > 0 && (unicode.IsLower(rs[i-1]) || unicode.IsDigit(rs[i-1]))
			nextLower := i > 0 && i+1 < len(rs) && unicode.IsLower(rs[i+1]) && unicode.IsUpper(rs[i-1])
			if prevLower || nextLower {
				b.WriteByte('_')
			}
			b.WriteRune(unicode.ToLower(r))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}
