package ipc

import (
	"encoding/json"
	"fmt"
	"github.com/ipcord/ipcord/ipc/internal/transport"
	"time"

	"github.com/ipcord/ipcord/ipc/internal/wire"
)

// Serving: requests the peer sends us, run on workers.

// task is a request ready to run.
type task struct {
	ctx   *handlerContext
	id    uint64
	h     Handler
	stat  *transport.RouteStat // its route's
	start time.Time            // when it was read
}

// serve readies one request to run, or answers at once when it cannot
// run.
func (c *conn) serve(f *wire.Frame) (t task, run bool) {
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
		return t, false
	}
	timeout := c.cfg.defaultTimeout
	if f.TimeoutMS > 0 {
		// Capped in milliseconds: a huge timeout_ms would overflow a
		// Duration.
		timeout = time.Duration(min(f.TimeoutMS, c.cfg.maxTimeout.Milliseconds())) * time.Millisecond
	}
	if c.failed {
		c.mu.Unlock()
		return t, false
	}
	start := time.Now()
	c.lastServed.Store(sinceEpoch(start))
	hc := transport.NewContext(Request{}, start.Add(timeout), nil)
	c.inbound[id] = hc
	c.running++
	c.handlers.Add(1)
	c.active.Add(1)
	c.mu.Unlock()

	*hc.Request() = c.request(f)
	return task{ctx: hc, id: id, h: h, stat: c.cfg.workers.stats.Get(hc.Request().Route), start: start}, true
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

// runWorker runs t on a worker, timing its handler for its route's
// statistics.
func (c *conn) runWorker(t task) {
	began := time.Now() // the wait for a worker is not the handler's
	reply := c.execute(t)
	t.stat.Record(time.Since(began))
	c.finish(t, reply, false)
}

// execute runs t's handler and returns its answer, encoded in a buffer
// from bufPool, or nil when no answer is due (the caller canceled, or
// Shutdown answered for it).
func (c *conn) execute(t task) *[]byte {
	data, err := serve(t.ctx, t.h, t.ctx.Request(), c.cfg.hooks, c.cfg.logger)
	c.mu.Lock()
	c.running--
	live := c.inbound[t.id] == t.ctx
	if live {
		delete(c.inbound, t.id)
	}
	c.mu.Unlock()
	if !live {
		return nil
	}
	buf := getBuf()
	if err == nil {
		if *buf = wire.AppendResult((*buf)[:0], t.id, data); len(*buf) > c.sendLimit() {
			err = c.tooLarge("the reply", len(*buf))
		}
	}
	if err != nil {
		e := AsError(err)
		*buf = wire.AppendError((*buf)[:0], t.id, e.Code, e.Message)
	}
	return buf
}

// finish sends t's answer, if any (held: see writeHeld), and ends its
// bookkeeping. Shutdown waits for it, so the answer is queued before the
// close frame.
func (c *conn) finish(t task, reply *[]byte, hold bool) {
	if reply != nil {
		if hold {
			c.writeHeld(*reply)
		} else {
			c.writeFrame(*reply)
		}
		putBuf(reply)
	}
	t.ctx.Cancel()
	c.active.Add(-1)
	c.handlers.Done()
}
