package ipc

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"runtime/debug"
	"time"

	"github.com/ipcord/ipcord/ipc/internal/wire"
)

// Serving: requests the peer sends us, run on workers.

// serve starts the handler for one request, or answers at once when the
// request cannot run.
func (c *conn) serve(f *wire.Frame) *task {
	id := f.ID
	h, ok := c.cfg.router.Lookup(f.Route)
	c.mu.Lock()
	switch {
	case c.shutdown:
		c.mu.Unlock()
		c.writeFrame(wire.AppendError(nil, id, CodeShuttingDown, "server is shutting down"))
		return nil
	case !ok:
		c.mu.Unlock()
		c.writeFrame(wire.AppendError(nil, id, CodeUnknownRoute, fmt.Sprintf("no route %q", f.Route)))
		return nil
	case c.inbound[id] != nil:
		// A second request with the id of a running one would replace it
		// here and slip past the cap; it is refused instead, and the
		// first keeps its id.
		c.mu.Unlock()
		c.writeFrame(wire.AppendError(nil, id, CodeBadRequest, fmt.Sprintf("request id %d is already in flight", id)))
		return nil
	case c.running >= c.cfg.maxInFlight:
		// running, not len(inbound): a handler canceled by its caller
		// leaves inbound at once but holds its goroutine until it returns.
		c.mu.Unlock()
		c.writeFrame(wire.AppendError(nil, id, CodeOverloaded, fmt.Sprintf("more than %d requests in flight", c.cfg.maxInFlight)))
		return nil
	}
	timeout := c.cfg.defaultTimeout
	if f.TimeoutMS > 0 {
		// Capped in milliseconds: a huge timeout_ms would overflow a
		// Duration.
		timeout = time.Duration(min(f.TimeoutMS, c.cfg.maxTimeout.Milliseconds())) * time.Millisecond
	}
	if c.failed {
		c.mu.Unlock()
		return nil
	}
	hc := NewHandlerContext(Request{}, time.Now().Add(timeout), nil)
	c.inbound[id] = hc
	c.running++
	c.handlers.Add(1)
	c.active.Add(1)
	c.mu.Unlock()

	hc.req = Request{
		Route:  f.Route,
		Args:   append(json.RawMessage(nil), f.Args...), // f.Args aliases the read buffer
		Meta:   f.Meta,
		Peer:   c.peer,
		Caller: c,
	}
	if len(hc.req.Route) > 0 && hc.req.Route[0] == '/' {
		hc.req.Route = hc.req.Route[1:]
	}
	return &task{ctx: hc, id: id, h: h}
}

func (c *conn) run(ctx *HandlerContext, id uint64, h Handler) {
	defer c.handlers.Done()
	defer c.active.Add(-1)
	defer ctx.Cancel()
	req := &ctx.req
	data, err := Serve(ctx, h, req, c.cfg.hooks, c.cfg.logger)
	c.mu.Lock()
	c.running--
	live := c.inbound[id] == ctx
	if live {
		delete(c.inbound, id)
	}
	c.mu.Unlock()
	if !live {
		return // canceled by the caller, or answered by Shutdown
	}
	buf := getBuf()
	if err != nil {
		e := AsError(err)
		*buf = wire.AppendError((*buf)[:0], id, e.Code, e.Message)
	} else {
		*buf = wire.AppendResult((*buf)[:0], id, data)
	}
	c.writeFrame(*buf)
	putBuf(buf)
}

// Serve runs h for req the way every ipcord transport does, so a route
// behaves alike over WebSocket, the Python dialects and NATS: hooks (nil for
// none) before and after, a panic turned into handler_error (logged to
// logger, nil for none) instead of taking the process down, and the result
// encoded as JSON (encode_error when it cannot be). It returns the encoded
// result, or the error to answer with (AsError maps it onto the wire).
// RequestFrom(ctx) returns req inside the handler. It is for transports
// built outside this package, such as natsipc.
func Serve(ctx context.Context, h Handler, req *Request, hooks *Hooks, logger *slog.Logger) (data []byte, err error) {
	if r, _ := RequestFrom(ctx); r != req {
		ctx = context.WithValue(ctx, requestKey{}, req) // this package's contexts already carry it
	}
	var start time.Time
	if hooks != nil {
		start = time.Now()
		defer func() {
			if err != nil && hooks.OnError != nil {
				hooks.OnError(ctx, req, err)
			}
			if hooks.OnComplete != nil {
				hooks.OnComplete(ctx, req, time.Since(start), err)
			}
		}()
	}
	defer func() {
		if p := recover(); p != nil {
			if logger != nil {
				logger.Error("ipc: handler panicked", "route", req.Route, "peer", req.Peer, "panic", p, "stack", string(debug.Stack()))
			}
			data, err = nil, &Error{Code: CodeHandlerError, Message: fmt.Sprintf("handler for %q panicked", req.Route)}
		}
	}()
	if hooks != nil && hooks.OnRequest != nil {
		hooks.OnRequest(ctx, req)
	}
	v, err := h.ServeIPC(ctx, req)
	if err != nil {
		return nil, err
	}
	return encodeResult(req.Route, v)
}

func encodeResult(route string, v any) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case json.RawMessage:
		if !valid(x) {
			return nil, &Error{Code: CodeEncodeError, Message: fmt.Sprintf("route %q returned invalid raw JSON", route)}
		}
		return x, nil
	}
	b, err := marshal(v)
	if err != nil {
		return nil, &Error{Code: CodeEncodeError, Message: fmt.Sprintf("route %q: result cannot be encoded: %v", route, err)}
	}
	return b, nil
}
