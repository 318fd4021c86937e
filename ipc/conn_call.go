package ipc

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/ipcord/ipcord/ipc/internal/wire"
)

// Calling: requests we send the peer, and waiting for their replies.

// Call calls route on the peer of this connection; it makes a connection a
// Caller, so handlers can call back whoever called them.
func (c *conn) Call(ctx context.Context, route string, args, out any) error {
	return callWith(ctx, nativeWire, c.cfg.defaultTimeout, route, args, out, func(ctx context.Context, a []byte, timeout time.Duration) ([]byte, error) {
		return c.call(ctx, route, a, timeout)
	})
}

// call sends one request and waits for its reply, the context, the
// timeout (when > 0: the default deadline of a ctx without one), or the end
// of the connection, whichever comes first.
func (c *conn) call(ctx context.Context, route string, args []byte, timeout time.Duration) ([]byte, error) {
	c.active.Add(1)
	defer c.active.Add(-1)
	ch := replyPool.Get().(chan reply)
	c.mu.Lock()
	if c.isDone() {
		c.mu.Unlock()
		replyPool.Put(ch)
		return nil, errNotSent
	}
	id := c.nextID
	c.nextID++
	c.pending[id] = ch
	c.mu.Unlock()

	var timeoutMS int64
	var deadline time.Time
	if timeout > 0 {
		deadline = time.Now().Add(timeout)
		timeoutMS = timeout.Milliseconds()
	} else if dl, ok := ctx.Deadline(); ok {
		deadline = dl
		timeoutMS = max(time.Until(dl).Milliseconds(), 1)
	}
	c.callingBack(ctx)
	buf := getBuf()
	*buf = wire.AppendRequest((*buf)[:0], id, route, args, timeoutMS, MetaFrom(ctx))
	if len(*buf) > c.sendLimit() {
		n := len(*buf)
		putBuf(buf)
		c.forget(id, ch)
		return nil, c.tooLarge("the request", n)
	}
	queued := c.writeFrame(*buf)
	putBuf(buf)
	if !queued {
		c.forget(id, ch)
		return nil, errNotSent
	}

	c.mu.Lock()
	if _, waiting := c.pending[id]; waiting && c.reader == readerNone {
		// Nobody reads: this call does, until its reply arrives (see
		// conn_read.go).
		c.reader, c.leadCtx = readerCall, ctx
		c.leads++
		c.mu.Unlock()
		return c.lead(ctx, id, ch, deadline)
	}
	c.mu.Unlock()

	var expired <-chan time.Time
	if timeout > 0 {
		t := timerPool.Get().(*time.Timer)
		t.Reset(time.Until(deadline))
		defer func() { t.Stop(); timerPool.Put(t) }()
		expired = t.C
	}
	select {
	case r := <-ch:
		replyPool.Put(ch)
		return r.data, r.err
	case <-ctx.Done():
		return c.abandon(id, ch, contextError(ctx))
	case <-expired:
		return c.abandon(id, ch, fmt.Errorf("%w: %w", ErrTimeout, context.DeadlineExceeded))
	case <-c.done:
		select {
		case r := <-ch:
			return r.data, r.err
		default:
			return nil, c.lostError()
		}
	}
}

// abandon gives up waiting for request id: the peer is told to cancel, and
// a reply that won the race is returned instead of err.
func (c *conn) abandon(id uint64, ch chan reply, err error) ([]byte, error) {
	if !c.forget(id, ch) {
		r := <-ch // deliver took it from pending: the reply is on its way
		replyPool.Put(ch)
		return r.data, r.err
	}
	c.writeFrame(wire.AppendCancel(nil, id))
	return nil, err
}

// forget removes a pending call; it reports whether it was still pending
// (and so returned ch to the pool).
func (c *conn) forget(id uint64, ch chan reply) bool {
	c.mu.Lock()
	_, waiting := c.pending[id]
	delete(c.pending, id)
	c.mu.Unlock()
	if waiting {
		replyPool.Put(ch)
	}
	return waiting
}

// Reply channels and timers are reused: every call needs one of each.
// A channel goes back to the pool only once nobody can send on it: after
// its reply was received, or after it was removed from pending unsent.
var (
	replyPool = sync.Pool{New: func() any { return make(chan reply, 1) }}
	timerPool = sync.Pool{New: func() any {
		t := time.NewTimer(time.Hour)
		t.Stop()
		return t
	}}
)

func (c *conn) isDone() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

func (c *conn) lostError() error {
	<-c.done
	if errors.Is(c.err, ErrConnectionLost) {
		return c.err
	}
	return fmt.Errorf("%w: %w", ErrConnectionLost, c.err)
}
