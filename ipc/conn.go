package ipc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ipcord/ipcord/internal/wsproto"
	"github.com/ipcord/ipcord/ipc/internal/wire"
)

// connConfig is what one connection needs from its owner (Server or
// Client); it is shared, read-only, by all of the owner's connections.
type connConfig struct {
	router         *Router
	hooks          *Hooks
	logger         *slog.Logger
	maxMessage     int
	maxInFlight    int
	pingInterval   time.Duration // 0: no keepalive
	pingMisses     int
	writeTimeout   time.Duration
	defaultTimeout time.Duration
	workers        *workers    // runs handlers
	compress       *compressor // nil: compression disabled by the owner
}

// maxQueued bounds the bytes waiting to be written to one peer: past it the
// peer is not reading and is dropped, so it cannot hold memory or slow the
// goroutines answering others.
func (c *connConfig) maxQueued() int { return 4*c.maxMessage + 1<<20 }

// CloseError is how a connection ended when the peer (or we, for a
// protocol violation) closed it with a WebSocket close code.
type CloseError struct {
	Code   int
	Reason string
}

func (e *CloseError) Error() string {
	return fmt.Sprintf("ipc: connection closed: %d %s", e.Code, e.Reason)
}

var (
	// errNotSent: the connection ended before the request was written, so
	// the caller may safely try the next connection.
	errNotSent   = errors.New("ipc: request not sent")
	errKeepalive = errors.New("ipc: peer stopped answering pings")
	errSlowPeer  = errors.New("ipc: peer stopped reading (send queue full)")
)

// conn is one WebSocket connection speaking ipcord.v1, on either side. It
// multiplexes calls both ways: requests we send wait in pending, requests
// we serve run in their own goroutines and are tracked in inbound.
//
// Writes are combined: whoever finds no write in progress writes
// everything queued so far in one syscall, and frames queued meanwhile go
// out together in the next one.
type conn struct {
	cfg        *connConfig
	nc         net.Conn
	role       wsproto.Role
	dec        wsproto.Decoder
	peer       string      // the remote side's identifier
	peerRoutes []string    // the routes the peer announced in its hello
	compress   *compressor // set when permessage-deflate was negotiated
	inflated   []byte      // the reader's buffer for decompressed messages

	wmu       sync.Mutex
	wbuf      []byte
	spare     []byte
	writing   bool
	wdeadline time.Time // the socket's write deadline; owned by the writer
	wdone     bool      // no more writes after a close frame or a failure

	mu       sync.Mutex
	nextID   uint64
	pending  map[uint64]chan reply
	inbound  map[uint64]*handlerCtx
	shutdown bool // answer new requests shutting_down
	failed   bool // no new handlers: the connection has ended

	handlers sync.WaitGroup

	active    atomic.Int32 // calls in flight either way, for write batching
	readAny   atomic.Bool
	pingTimer atomic.Pointer[time.Timer]
	misses    int // owned by the keepalive timer function

	onClose  func() // set before start; runs once when the connection ends
	done     chan struct{}
	failOnce sync.Once
	err      error // why the connection ended; set before done is closed
}

type reply struct {
	data []byte
	err  error
}

func newConn(cfg *connConfig, nc net.Conn, role wsproto.Role) *conn {
	c := &conn{
		cfg:     cfg,
		nc:      nc,
		role:    role,
		dec:     wsproto.Decoder{Role: role, MaxMessage: cfg.maxMessage},
		pending: make(map[uint64]chan reply),
		inbound: make(map[uint64]*handlerCtx),
		done:    make(chan struct{}),
		nextID:  1,
	}
	return c
}

// start runs the read loop and the keepalive until the connection ends.
func (c *conn) start() {
	if c.cfg.pingInterval > 0 {
		c.pingTimer.Store(time.AfterFunc(c.cfg.pingInterval, c.keepalive))
	}
	c.cfg.workers.run(c.readLoop)
}

// readMessage reads the next data message, answering pings on the way. It
// is used before start, during the handshake.
func (c *conn) readMessage() (wsproto.Message, error) {
	for {
		m, ok, err := c.next()
		if err != nil {
			return m, err
		}
		if !ok {
			if _, err := c.dec.ReadFrom(c.nc); err != nil {
				return m, err
			}
			continue
		}
		switch m.Op {
		case wsproto.OpPing:
			c.writeControl(wsproto.OpPong, m.Payload)
		case wsproto.OpPong:
		case wsproto.OpClose:
			return m, &CloseError{Code: int(m.CloseCode), Reason: m.CloseReason}
		default:
			return m, nil
		}
	}
}

func (c *conn) readLoop() {
	for {
		m, ok, err := c.next()
		if err != nil {
			var pe *wsproto.ProtocolError
			if errors.As(err, &pe) {
				c.closeWith(int(pe.Code), pe.Reason)
			}
			c.fail(err)
			return
		}
		if !ok {
			n, err := c.dec.ReadFrom(c.nc)
			if n > 0 {
				c.readAny.Store(true)
			}
			if err != nil {
				c.fail(fmt.Errorf("%w: %w", ErrConnectionLost, err))
				return
			}
			continue
		}
		switch m.Op {
		case wsproto.OpText:
			req, err := c.handle(m.Payload)
			if err != nil {
				c.closeWith(int(wsproto.CloseInvalidPayload), truncateReason(err.Error()))
				c.fail(err)
				return
			}
			if req == nil {
				continue
			}
			if c.dec.Buffered() > 0 {
				// More is already here: keep reading, and let a worker
				// run this request.
				c.cfg.workers.run(func() { c.run(req.ctx, req.id, req.h) })
				continue
			}
			// Nothing else is buffered, so the next read would wait: hand
			// reading to a worker and run this request here, at once,
			// instead of waking a worker and waiting for it.
			c.cfg.workers.run(c.readLoop)
			c.run(req.ctx, req.id, req.h)
			return
		case wsproto.OpBinary:
			// Reserved for a future encoding named in hello.enc.
			c.closeWith(int(wsproto.CloseUnsupportedData), "binary messages are not supported")
			c.fail(&CloseError{Code: int(wsproto.CloseUnsupportedData), Reason: "peer sent a binary message"})
			return
		case wsproto.OpPing:
			c.writeControl(wsproto.OpPong, m.Payload)
		case wsproto.OpClose:
			// Echo the close, then end: the peer closes TCP after that.
			code := m.CloseCode
			if !code.Valid() {
				code = wsproto.CloseNormal
			}
			c.closeWith(int(code), "")
			c.fail(&CloseError{Code: int(m.CloseCode), Reason: m.CloseReason})
			return
		}
	}
}

func truncateReason(s string) string {
	if len(s) > 120 {
		return s[:120]
	}
	return s
}

// task is a request ready to run: its context, id and handler.
type task struct {
	ctx *handlerCtx
	id  uint64
	h   Handler
}

// handle processes one text message from the read loop. It returns the
// request to run when the message is one that should run.
func (c *conn) handle(payload []byte) (*task, error) {
	f, err := wire.Decode(payload)
	if err != nil {
		return nil, err
	}
	switch f.Type {
	case wire.TypeRequest:
		return c.serve(&f), nil
	case wire.TypeResult:
		c.deliver(f.ID, reply{data: append([]byte(nil), f.Data...)})
	case wire.TypeError:
		c.deliver(f.ID, reply{err: &Error{Code: f.Code, Message: f.Message}})
	case wire.TypeCancel:
		c.mu.Lock()
		h := c.inbound[f.ID]
		delete(c.inbound, f.ID) // nothing more is sent for this id
		c.mu.Unlock()
		if h != nil {
			h.cancel(context.Canceled)
		}
	case wire.TypeHello:
		// Only the first frame may be a hello; a later one changes nothing.
	default:
		if f.HasID {
			c.writeFrame(wire.AppendError(nil, f.ID, CodeUnsupported, "unknown frame type"))
		}
	}
	return nil, nil
}

// deliver hands a reply to the call waiting for it; a reply nobody waits for
// (canceled, timed out, or never asked) is dropped.
func (c *conn) deliver(id uint64, r reply) {
	c.mu.Lock()
	ch := c.pending[id]
	delete(c.pending, id)
	c.mu.Unlock()
	if ch != nil {
		ch <- r // buffered: never blocks
	}
}

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

// Call calls route on the peer of this connection; it makes a connection a
// Caller, so handlers can call back whoever called them.
func (c *conn) Call(ctx context.Context, route string, args, out any) error {
	return callWith(ctx, c.cfg.defaultTimeout, route, args, out, func(ctx context.Context, a []byte, timeout time.Duration) ([]byte, error) {
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
	var expired <-chan time.Time
	if timeout > 0 {
		t := timerPool.Get().(*time.Timer)
		t.Reset(timeout)
		defer func() { t.Stop(); timerPool.Put(t) }()
		expired = t.C
		timeoutMS = timeout.Milliseconds()
	} else if dl, ok := ctx.Deadline(); ok {
		timeoutMS = max(time.Until(dl).Milliseconds(), 1)
	}
	buf := getBuf()
	*buf = wire.AppendRequest((*buf)[:0], id, route, args, timeoutMS, metaFrom(ctx))
	queued := c.writeFrame(*buf)
	putBuf(buf)
	if !queued {
		c.forget(id, ch)
		return nil, errNotSent
	}

	select {
	case r := <-ch:
		replyPool.Put(ch)
		return r.data, r.err
	case <-ctx.Done():
		return c.abandon(id, ch, ctxError(ctx))
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

// writeFrame queues one text frame and, when no write is in progress,
// writes everything queued. It reports nothing: a failed write fails the
// whole connection, and every waiter learns of it from done.
func (c *conn) writeFrame(payload []byte) bool {
	return c.write(wsproto.OpText, payload)
}

func (c *conn) writeControl(op wsproto.Opcode, payload []byte) {
	c.write(op, payload)
}

// write queues one frame; it reports false when the connection no longer
// takes frames, so the frame was certainly not sent. Data messages of at
// least the minimum size are compressed when compression was negotiated.
func (c *conn) write(op wsproto.Opcode, payload []byte) bool {
	if z := c.compress; z != nil && len(payload) >= z.minSize && !op.IsControl() {
		return c.writeCompressed(z, op, payload)
	}
	return c.queue(op, false, payload)
}

// queue appends one frame to the write queue and flushes it.
func (c *conn) queue(op wsproto.Opcode, rsv1 bool, payload []byte) bool {
	var key [4]byte
	if c.role == wsproto.Client {
		key = wsproto.MaskKey()
	}
	c.wmu.Lock()
	if c.wdone {
		c.wmu.Unlock()
		return false
	}
	if len(c.wbuf)+len(payload) > c.cfg.maxQueued() {
		c.wmu.Unlock()
		c.fail(errSlowPeer)
		return false
	}
	c.wbuf = wsproto.AppendFrame(c.wbuf, c.role, op, true, rsv1, key, payload)
	c.flushLocked()
	return true
}

// flushLocked writes the queue until it is empty, unless another goroutine
// is already doing so. It is called with wmu held and releases it.
func (c *conn) flushLocked() {
	if c.writing {
		c.wmu.Unlock()
		return
	}
	c.writing = true
	if c.active.Load() > 1 {
		// Other calls are in flight on this connection: let goroutines
		// about to queue their frames do so first, so they share this
		// write instead of each making a syscall. Alone, write at once.
		c.wmu.Unlock()
		runtime.Gosched()
		c.wmu.Lock()
	}
	for len(c.wbuf) > 0 {
		buf := c.wbuf
		c.wbuf, c.spare = c.spare[:0], nil
		c.wmu.Unlock()
		c.refreshWriteDeadline()
		_, err := c.nc.Write(buf)
		c.wmu.Lock()
		if cap(buf) <= 256<<10 {
			c.spare = buf[:0] // keep one modest buffer; let a huge one go
		}
		if err != nil {
			c.writing = false
			c.wdone = true
			c.wmu.Unlock()
			c.fail(fmt.Errorf("%w: write: %w", ErrConnectionLost, err))
			return
		}
	}
	c.writing = false
	c.wmu.Unlock()
}

// refreshWriteDeadline keeps at least half of writeTimeout ahead of every
// write. Moving the socket's deadline costs a timer update in the runtime
// poller; doing it only when half the budget is gone saves that on nearly
// every write. Called with writing set, so one goroutine at a time.
func (c *conn) refreshWriteDeadline() {
	if c.cfg.writeTimeout <= 0 {
		return
	}
	now := time.Now()
	if c.wdeadline.Sub(now) >= c.cfg.writeTimeout/2 {
		return
	}
	c.wdeadline = now.Add(c.cfg.writeTimeout)
	c.nc.SetWriteDeadline(c.wdeadline)
}

// closeWith sends a close frame (best effort) and stops further writes.
func (c *conn) closeWith(code int, reason string) {
	var key [4]byte
	if c.role == wsproto.Client {
		key = wsproto.MaskKey()
	}
	c.wmu.Lock()
	if c.wdone {
		c.wmu.Unlock()
		return
	}
	c.wdone = true // nothing may follow the close frame
	c.wbuf = wsproto.AppendClose(c.wbuf, c.role, key, wsproto.CloseCode(code), reason)
	c.flushLocked()
}

// close ends the connection from our side: a close frame, a short wait for
// the peer's answer, then the socket.
func (c *conn) close(code int, reason string) {
	c.closeWith(code, reason)
	t := time.NewTimer(time.Second)
	defer t.Stop()
	select {
	case <-c.done:
	case <-t.C:
		c.fail(&CloseError{Code: code, Reason: reason})
	}
}

// fail ends the connection once: the socket is closed, waiting calls fail
// with ErrConnectionLost, and running handlers see their context end.
func (c *conn) fail(err error) {
	c.failOnce.Do(func() {
		c.err = err
		c.wmu.Lock()
		c.wdone = true
		c.wmu.Unlock()
		c.nc.Close()
		if t := c.pingTimer.Load(); t != nil {
			t.Stop()
		}
		c.mu.Lock()
		c.failed = true
		in := c.inbound
		c.inbound = nil
		c.mu.Unlock()
		for _, h := range in {
			h.cancel(context.Canceled)
		}
		// Owners forget the connection before anyone can see it done, so
		// nobody picks a dead connection for a new call.
		if c.onClose != nil {
			c.onClose()
		}
		close(c.done)
	})
}

// keepalive runs on the ping timer: it drops a peer from which nothing at
// all was read for pingMisses intervals, else pings it again.
func (c *conn) keepalive() {
	if c.isDone() {
		return
	}
	if c.readAny.Swap(false) {
		c.misses = 0
	} else {
		c.misses++
	}
	if c.misses >= c.cfg.pingMisses {
		c.fail(fmt.Errorf("%w: %w", ErrConnectionLost, errKeepalive))
		return
	}
	c.writeControl(wsproto.OpPing, nil)
	if t := c.pingTimer.Load(); t != nil {
		t.Reset(c.cfg.pingInterval)
	}
}

func (c *conn) identifier() string { return c.peer }

func (c *conn) waitHandlers() { c.handlers.Wait() }

// beginShutdown makes the connection answer new requests shutting_down.
func (c *conn) beginShutdown() {
	c.mu.Lock()
	c.shutdown = true
	c.mu.Unlock()
}

// abortHandlers answers every request still running shutting_down and
// cancels its handler.
func (c *conn) abortHandlers() {
	c.mu.Lock()
	in := c.inbound
	c.inbound = make(map[uint64]*handlerCtx)
	c.mu.Unlock()
	for id, h := range in {
		h.cancel(context.Canceled)
		c.writeFrame(wire.AppendError(nil, id, CodeShuttingDown, "server shut down before the handler finished"))
	}
}

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

func getBuf() *[]byte { return bufPool.Get().(*[]byte) }

func putBuf(b *[]byte) {
	if cap(*b) <= 64<<10 {
		bufPool.Put(b)
	}
}
