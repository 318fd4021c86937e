package ipc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ipcord/ipcord/internal/wsproto"
	"github.com/ipcord/ipcord/ipc/internal/transport"
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
	maxTimeout     time.Duration // caps a request's own timeout_ms
	dialectTimeout time.Duration // deadline of dialect requests, which carry none
	busyPoll       time.Duration // how long a read polls an empty socket; ≤ 0: never (sock_spin_linux.go)
	workers        *workers      // runs handlers
	compress       *compressor   // nil: compression disabled by the owner
}

// withDefaults fills the zero fields with the defaults Server and Client
// share: an empty router, no logging, 1 MiB messages, 1024 requests in
// flight, a ping every 20 s with 2 misses allowed (a negative interval
// turns keepalive off), 10 s writes, 30 s calls, and 5 min at most for the
// timeout a peer's request asks for, and 200 µs of polling an empty
// socket.
func (c connConfig) withDefaults() connConfig {
	if c.router == nil {
		c.router = NewRouter()
	}
	c.logger = orDiscard(c.logger)
	c.maxMessage = orDefault(c.maxMessage, 1<<20)
	c.maxInFlight = orDefault(c.maxInFlight, 1024)
	c.pingInterval = max(orDefault(c.pingInterval, 20*time.Second), 0)
	c.pingMisses = orDefault(c.pingMisses, 2)
	c.writeTimeout = orDefault(c.writeTimeout, 10*time.Second)
	c.defaultTimeout = orDefault(c.defaultTimeout, 30*time.Second)
	c.maxTimeout = orDefault(c.maxTimeout, 5*time.Minute)
	c.dialectTimeout = orDefault(c.dialectTimeout, c.defaultTimeout)
	c.busyPoll = orDefault(c.busyPoll, defaultBusyPoll)
	return c
}

// maxQueued bounds the bytes waiting to be written to one peer: past it the
// peer is not reading and is dropped, so it cannot hold memory or slow the
// goroutines answering others.
func (c *connConfig) maxQueued() int { return 4*c.maxMessage + 1<<20 }

// CloseError is how a connection ended when the peer (or we, for a
// protocol violation: 1002, 1007 invalid UTF-8, 1009 too big) closed it
// with a WebSocket close code.
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
	sock       sock     // nc, or a faster way to read and write it
	hint       pollHint // sock, when it polls
	role       wsproto.Role
	dec        wsproto.Decoder
	peer       string      // the remote side's identifier
	peerRoutes []string    // the routes the peer announced in its hello
	peerMax    int         // the largest message the peer accepts; 0: as we do
	compress   *compressor // set when permessage-deflate was negotiated
	inflated   []byte      // the reader's buffer for decompressed messages

	wmu       sync.Mutex
	wbuf      []byte
	spare     []byte
	writing   bool
	wdeadline time.Time     // the socket's write deadline; owned by the writer
	wdone     bool          // no more writes after a close frame or a failure
	flushed   chan struct{} // set by fail while a write is in progress; closed when it ends
	held      atomic.Bool   // wbuf has frames the read loop queued without writing them

	// The handler the read loop runs inline (see inline.go): since when
	// (sinceEpoch; 0 when none, -1 once another loop took over), its
	// context, and its route's statistics.
	inlineSince atomic.Int64
	inlineCtx   atomic.Pointer[handlerContext]
	inlineStat  atomic.Pointer[transport.RouteStat]
	watched     bool // known to the watchdog; owned by the reader

	mu       sync.Mutex
	nextID   uint64
	pending  map[uint64]chan reply
	inbound  map[uint64]*handlerContext
	running  int  // handlers not yet returned, canceled ones included
	shutdown bool // answer new requests shutting_down
	failed   bool // no new handlers: the connection has ended

	handlers sync.WaitGroup

	// Who reads the socket (see conn_read.go). reader, released, leads,
	// dozing and leadCtx are under mu; rdl and the decoder belong to the
	// reader.
	reader     readerKind
	released   time.Time       // when a call last left the reading to nobody
	leads      uint64          // calls that have taken the reading, ever
	dozing     bool            // the lingering loop looks less often: kick it
	rdl        time.Time       // the read deadline the reader last set on the socket
	kick       chan struct{}   // makes the read loop look at once
	lastServed atomic.Int64    // when a request was last read (sinceEpoch)
	leadCtx    context.Context // the context of the call reading

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
		cfg:  cfg,
		nc:   nc,
		sock: newSock(nc, cfg.busyPoll),
		role: role,
		// Every protocol on this port is JSON in text messages: invalid
		// UTF-8 fails the connection (1007) at the fragment carrying it.
		dec:     wsproto.Decoder{Role: role, MaxMessage: cfg.maxMessage, ValidateUTF8: true},
		pending: make(map[uint64]chan reply),
		inbound: make(map[uint64]*handlerContext),
		done:    make(chan struct{}),
		kick:    make(chan struct{}, 1),
		nextID:  1,
		// The loop reads from start on; a call made before (once a
		// Server has published the connection) waits for it.
		reader: readerLoop,
	}
	c.hint, _ = c.sock.(pollHint)
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
			if _, err := c.dec.ReadFrom(c.sock); err != nil {
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

// nextText returns the next text message, reading the socket as needed
// and answering control frames on the way. When the connection ends (a
// read error, a protocol violation, a binary message, the peer's close) it
// has already been closed and failed, and ok is false. The payload is
// valid until the next call. Every dialect's read loop is built on it.
func (c *conn) nextText() (payload []byte, ok bool) {
	payload, st := c.readText(false)
	return payload, st == readOK
}

// readStatus is how readText ended.
type readStatus int8

const (
	readOK      readStatus = iota // a text message
	readEnded                     // the connection ended
	readTimeout                   // the socket's read deadline passed (soft only)
)

// readText is nextText where soft makes the socket's read deadline end
// the wait (readTimeout) instead of the connection: the native readers
// use the deadline to stop reading (see conn_read.go).
func (c *conn) readText(soft bool) (payload []byte, st readStatus) {
	for {
		m, ok, err := c.next()
		if err != nil {
			var ce *CloseError
			if errors.As(err, &ce) {
				c.closeWith(ce.Code, ce.Reason)
			}
			c.fail(err)
			return nil, readEnded
		}
		if !ok {
			// The next read may wait: first write the replies held for
			// the requests served since the last one.
			c.flushHeld()
			n, err := c.dec.ReadFrom(c.sock)
			if n > 0 {
				c.readAny.Store(true)
			}
			if err != nil {
				if soft && errors.Is(err, os.ErrDeadlineExceeded) {
					return nil, readTimeout // what arrived stays in the decoder
				}
				c.fail(fmt.Errorf("%w: %w", ErrConnectionLost, err))
				return nil, readEnded
			}
			continue
		}
		switch m.Op {
		case wsproto.OpText:
			return m.Payload, readOK
		case wsproto.OpBinary:
			// Reserved for a future encoding named in hello.enc.
			c.closeWith(int(wsproto.CloseUnsupportedData), "binary messages are not supported")
			c.fail(&CloseError{Code: int(wsproto.CloseUnsupportedData), Reason: "peer sent a binary message"})
			return nil, readEnded
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
			return nil, readEnded
		}
	}
}

// readLoop reads native frames until the connection ends, or until the
// watchdog hands the reading to another loop because a handler this one
// ran got stuck. Fast routes' handlers run here (see inline.go), the
// others on workers. While calls read the socket themselves, the loop
// waits (see conn_read.go).
func (c *conn) readLoop() {
	for {
		if c.hint != nil {
			c.hint.expectSoon(c.active.Load() > 0 || c.servedLately(time.Now()))
		}
		payload, st := c.readText(true)
		switch st {
		case readEnded:
			return
		case readTimeout:
			// A deadline a call left on the socket, or its late interrupt.
			c.setReadDeadline(time.Time{})
			continue
		}
		f, err := wire.Decode(payload)
		if err != nil {
			c.protocolError(err)
			return
		}
		t, run := c.dispatch(&f)
		if !run {
			if (f.Type == wire.TypeResult || f.Type == wire.TypeError) && c.leaveReading() && !c.linger() {
				return
			}
			continue
		}
		if t.stat.Inline() {
			if !c.runInline(t) {
				return
			}
			continue
		}
		c.cfg.workers.run(func() { c.runWorker(t) })
	}
}

// protocolError ends the connection over a frame that is not ipcord.v1.
func (c *conn) protocolError(err error) {
	c.closeWith(int(wsproto.CloseInvalidPayload), truncateReason(err.Error()))
	c.fail(err)
}

func truncateReason(s string) string {
	if len(s) > 120 {
		return s[:120]
	}
	return s
}

// dispatch processes one frame read by whoever reads the connection. It
// returns the request to run when the frame is one that should run.
func (c *conn) dispatch(f *wire.Frame) (t task, run bool) {
	switch f.Type {
	case wire.TypeRequest:
		return c.serve(f)
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
			h.Cancel()
		}
	case wire.TypeHello:
		// Only the first frame may be a hello; a later one changes nothing.
	default:
		if f.HasID {
			c.writeFrame(wire.AppendError(nil, f.ID, CodeUnsupported, "unknown frame type"))
		}
	}
	return t, false
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

// close ends the connection from our side: a close frame, a short wait for
// the peer's answer, then the socket.
func (c *conn) close(code int, reason string) {
	c.closeWith(code, reason)
	c.kickLoop() // the peer's answer needs a reader
	t := time.NewTimer(time.Second)
	defer t.Stop()
	select {
	case <-c.done:
	case <-t.C:
		c.fail(&CloseError{Code: code, Reason: reason})
	}
}

// sendLimit is the largest message the peer accepts: what its hello said,
// or (a peer that did not say) our own limit.
func (c *conn) sendLimit() int {
	if c.peerMax > 0 {
		return c.peerMax
	}
	return c.cfg.maxMessage
}

// tooLarge is the error of a call whose request or reply of n bytes the
// peer would refuse: it fails that call alone, where sending it would end
// the connection (1009) and every call on it.
func (c *conn) tooLarge(what string, n int) *Error {
	return &Error{Code: CodeTooLarge, Message: fmt.Sprintf("%s of %d bytes is over the %d bytes the receiving side accepts", what, n, c.sendLimit())}
}

// closeAndDrain closes the connection from our side when nobody else reads
// it: the close frame, then whatever the peer still sends is discarded
// until its close answer or a second has passed.
func (c *conn) closeAndDrain(code int, reason string) {
	c.closeWith(code, reason)
	c.nc.SetReadDeadline(time.Now().Add(time.Second))
	for {
		if _, ok := c.nextText(); !ok {
			return
		}
	}
}

// fail ends the connection once: the socket is closed, waiting calls fail
// with ErrConnectionLost, and running handlers see their context end.
func (c *conn) fail(err error) {
	c.failOnce.Do(func() {
		c.err = err
		c.wmu.Lock()
		c.wdone = true
		var flushing chan struct{}
		if c.writing {
			// Another goroutine is writing, and what it writes may be our
			// close frame, queued behind its own: let it finish (for a
			// moment at most) rather than cut it off by closing the socket.
			flushing = make(chan struct{})
			c.flushed = flushing
		}
		c.wmu.Unlock()
		if flushing != nil {
			t := time.NewTimer(closeGrace)
			select {
			case <-flushing:
			case <-t.C:
			}
			t.Stop()
		}
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
			h.Cancel()
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
	c.inbound = make(map[uint64]*handlerContext)
	c.mu.Unlock()
	for id, h := range in {
		h.Cancel()
		c.writeFrame(wire.AppendError(nil, id, CodeShuttingDown, "server shut down before the handler finished"))
	}
}
