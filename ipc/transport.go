package ipc

import (
	"context"
	"log/slog"

	"github.com/ipcord/ipcord/ipc/internal/transport"
)

// What this package's transports share with ipc/natsipc lives in
// internal/transport, instantiated here with Request and Error.

// handlerContext is the context one handler runs under.
type handlerContext = transport.Context[Request]

// serve runs h for req with hooks, panic recovery and result encoding.
func serve(ctx context.Context, h Handler, req *Request, hooks *Hooks, logger *slog.Logger) ([]byte, error) {
	return transport.Serve[Request, Error](ctx, h, req, req.Route, req.Peer, (*transport.Hooks[Request])(hooks), logger, nil)
}

// servePython is serve for a Python peer, whose json reads NaN, Infinity
// and -Infinity: a raw result may hold them (a route echoing the args it
// got from that peer does).
func servePython(ctx context.Context, h Handler, req *Request, hooks *Hooks, logger *slog.Logger) ([]byte, error) {
	return transport.Serve[Request, Error](ctx, h, req, req.Route, req.Peer, (*transport.Hooks[Request])(hooks), logger, validPython)
}

// encodeArgs encodes a call's args; what cannot be is ErrBadRequest.
func encodeArgs(args any) ([]byte, error) { return transport.EncodeArgs[Error](args) }

// contextError is the error of a call whose context ended: ErrTimeout or
// ErrCanceled, matching the context's own error too.
func contextError(ctx context.Context) error { return transport.ContextError[Error](ctx) }

// refused shows the hooks a request answered with e without running a
// handler. build makes the Request only when there are hooks to see it.
func (c *connConfig) refused(e *Error, build func() Request) {
	if c.hooks == nil {
		return
	}
	req := build()
	transport.Refused(&req, req.Route, error(e), (*transport.Hooks[Request])(c.hooks), c.logger)
}
