package ipc

import (
	"encoding/json"
	"fmt"
	"github.com/ipcord/ipcord/ipc/internal/transport"
	"time"

	"github.com/ipcord/ipcord/ipc/internal/wire"
)

// Serving: requests the peer sends us, run on workers.

// serve starts the handler for one request, or answers at once when the
// request cannot run.
func (c *conn) serve(f *wire.Frame) *task {
	id := f.ID
	h, ok := c.cfg.router.Lookup(f.Route)
	var e *Error
	c.mu.Lock()
	switch {
	case c.shutdown:
		e = &Error{Code: CodeShuttingDown, Message: "server is shutting down"}
	case !ok || !transport.ValidName(trimSlash(f.Route)):
		// A route only the Python dialects can name is not served here.
		e = &Error{Code: CodeUnknownRoute, Message: fmt.Sprintf("no route %q", f.Route)}
	case c.inbound[id] != nil:
		// A second request with the id of a running one would replace it
		// here and slip past the cap; it is refused instead, and the
		// first keeps its id.
		e = &Error{Code: CodeBadRequest, Message: fmt.Sprintf("request id %d is already in flight", id)}
	case c.running >= c.cfg.maxInFlight:
		// running, not len(inbound): a handler canceled by its caller
		// leaves inbound at once but holds its goroutine until it returns.
		e = &Error{Code: CodeOverloaded, Message: fmt.Sprintf("more than %d requests in flight", c.cfg.maxInFlight)}
	}
	if e != nil {
		c.mu.Unlock()
		c.cfg.refused(e, func() Request { return c.request(f) })
		c.writeFrame(wire.AppendError(nil, id, e.Code, e.Message))
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
	hc := transport.NewContext(Request{}, time.Now().Add(timeout), nil)
	c.inbound[id] = hc
	c.running++
	c.handlers.Add(1)
	c.active.Add(1)
	c.mu.Unlock()

	*hc.Request() = c.request(f)
	return &task{ctx: hc, id: id, h: h}
}

// request is the Request a handler (or a hook) sees for f.
func (c *conn) request(f *wire.Frame) Request {
	return Request{
		Route:  trimSlash(f.Route),
		Args:   append(json.RawMessage(nil), f.Args...), // f.Args aliases the read buffer
		Meta:   f.Meta,
		Peer:   c.peer,
		Caller: c,
	}
}

func (c *conn) run(ctx *handlerContext, id uint64, h Handler) {
	defer c.handlers.Done()
	defer c.active.Add(-1)
	defer ctx.Cancel()
	req := ctx.Request()
	data, err := serve(ctx, h, req, c.cfg.hooks, c.cfg.logger)
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
	if err == nil {
		if *buf = wire.AppendResult((*buf)[:0], id, data); len(*buf) > c.sendLimit() {
			err = c.tooLarge("the reply", len(*buf))
		}
	}
	if err != nil {
		e := AsError(err)
		*buf = wire.AppendError((*buf)[:0], id, e.Code, e.Message)
	}
	c.writeFrame(*buf)
	putBuf(buf)
}
