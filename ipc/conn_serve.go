package ipc

import (
	"context"
	"encoding/json"
	"fmt"
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
	case len(c.inbound) >= c.cfg.maxInFlight:
		c.mu.Unlock()
		c.writeFrame(wire.AppendError(nil, id, CodeOverloaded, fmt.Sprintf("more than %d requests in flight", c.cfg.maxInFlight)))
		return nil
	}
	timeout := c.cfg.defaultTimeout
	if f.TimeoutMS > 0 {
		timeout = time.Duration(f.TimeoutMS) * time.Millisecond
	}
	if c.failed {
		c.mu.Unlock()
		return nil
	}
	hc := newHandlerCtx(timeout)
	c.inbound[id] = hc
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

func (c *conn) run(ctx *handlerCtx, id uint64, h Handler) {
	defer c.handlers.Done()
	defer c.active.Add(-1)
	defer ctx.release()
	req := &ctx.req
	var start time.Time
	if c.cfg.hooks != nil {
		start = time.Now()
	}
	data, err := callHandler(ctx, c.cfg, h, req)
	c.mu.Lock()
	_, live := c.inbound[id]
	delete(c.inbound, id)
	c.mu.Unlock()
	if hk := c.cfg.hooks; hk != nil {
		if err != nil && hk.OnError != nil {
			hk.OnError(ctx, req, err)
		}
		if hk.OnComplete != nil {
			hk.OnComplete(ctx, req, time.Since(start), err)
		}
	}
	if !live {
		return // canceled by the caller, or answered by Shutdown
	}
	buf := getBuf()
	if err != nil {
		e := asError(err)
		*buf = wire.AppendError((*buf)[:0], id, e.Code, e.Message)
	} else {
		*buf = wire.AppendResult((*buf)[:0], id, data)
	}
	c.writeFrame(*buf)
	putBuf(buf)
}

// callHandler runs h and encodes its result, turning a panic into
// handler_error: one broken route must not take the process down.
func callHandler(ctx context.Context, cfg *connConfig, h Handler, req *Request) (data []byte, err error) {
	defer func() {
		if p := recover(); p != nil {
			cfg.logger.Error("ipc: handler panicked", "route", req.Route, "peer", req.Peer, "panic", p, "stack", string(debug.Stack()))
			data, err = nil, &Error{Code: CodeHandlerError, Message: fmt.Sprintf("handler for %q panicked", req.Route)}
		}
	}()
	if hk := cfg.hooks; hk != nil && hk.OnRequest != nil {
		hk.OnRequest(ctx, req)
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
		if !json.Valid(x) {
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
