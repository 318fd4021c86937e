package ipc

import (
	"encoding/json"
	"errors"
	"fmt"
	"github.com/ipcord/ipcord/ipc/internal/transport"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ipcord/ipcord/internal/wsproto"
)

// seqCodec is one of the dialects without request ids (ext-ipc,
// better-ipc): its client matches replies to requests by order alone.
type seqCodec interface {
	// decode reads one request; a non-nil error is answered at once, in
	// the dialect's form, without running anything. meta is what else the
	// peer sent that a handler may want (ext-ipc's headers), or nil.
	decode(payload []byte) (route string, args json.RawMessage, meta map[string]string, err *Error)
	// result encodes a route's successful result (JSON, nil for none).
	result(data []byte) []byte
	// failure encodes an error in the dialect's form.
	failure(e *Error) []byte
}

// seqConcurrency is how many requests of one connection run at once. The
// replies still go out strictly in request order.
const seqConcurrency = 8

// seqSession serves one connection of an id-less dialect: requests run
// concurrently (up to seqConcurrency) and are answered in arrival order.
// Such clients are never pinged and never closed for being idle: the real
// ext-ipc client answers a ping by re-sending its last request.
type seqSession struct {
	s     *Server
	c     *conn
	codec seqCodec
	id    string // better-ipc's ID header, or ""

	slots chan struct{}  // held from a request's arrival until its reply is written
	order chan *seqReply // replies in request order, for the writer
	wrote chan struct{}  // closed when the writer has stopped
	owed  sync.WaitGroup // replies of requests accepted before Shutdown, until written

	denied bool        // a request came without the secret; owned by the reader
	authed atomic.Bool // its first request carried the secret

	mu       sync.Mutex
	shutdown bool
	running  map[*handlerContext]struct{}
}

type seqReply struct {
	ready chan struct{}
	out   []byte
	owed  bool // counted in owed: Shutdown waits until it is written
}

// serveSeq serves c until it ends; first is the request already read.
// id is better-ipc's ID header. Unlike the Python server, any number of
// IDs may be connected at once and an ID may come back after any kind of
// close (the original reserves one ID and, after a clean close, refuses
// every other with 422). A new connection with an ID replaces an older
// one with the same ID: its client has reconnected, and the old
// connection, never pinged, might otherwise stay half-open forever.
func (s *Server) serveSeq(c *conn, first []byte, codec seqCodec, id string) {
	x := &seqSession{
		s: s, c: c, codec: codec, id: id,
		slots:   make(chan struct{}, seqConcurrency),
		order:   make(chan *seqReply, seqConcurrency),
		wrote:   make(chan struct{}),
		running: make(map[*handlerContext]struct{}),
	}
	if !s.track(x) {
		c.close(1001, "server shutting down")
		return
	}
	prev := c.onClose // a connection handed over by a Discovery is tracked there too
	c.onClose = func() {
		s.untrack(x)
		if prev != nil {
			prev()
		}
	}
	go x.writer()
	if x.request(first) {
		// Only a peer that presented the secret may take over an ID: a
		// wrong secret never reaches this point.
		if id != "" {
			for _, old := range s.seqSessionsWithID(id, x) {
				old.c.fail(fmt.Errorf("%w: replaced by a new connection with ID %q", ErrConnectionLost, id))
			}
			s.cfg.logger.Debug("ipc: better-ipc client connected", "id", id)
		}
		readDialect(c, func(p []byte) error {
			if !x.request(p) {
				return errStop
			}
			return nil
		})
	}
	close(x.order)
	<-x.wrote
	if x.denied {
		// The peer got its 403, in order after the replies it was owed;
		// an unauthenticated connection is not kept open (it would hold a
		// socket and memory for nothing).
		c.closeAndDrain(int(wsproto.ClosePolicyViolation), "invalid secret")
	}
	x.abortHandlers() // the connection ended: nobody waits for those replies
}

// seqSessionsWithID returns the sessions other than x carrying id.
func (s *Server) seqSessionsWithID(id string, x *seqSession) []*seqSession {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*seqSession
	for sess := range s.sessions {
		// Only sessions that presented the secret: one still on its first
		// request (or refused) is not the client that reconnected.
		if o, ok := sess.(*seqSession); ok && o != x && o.id == id && o.authed.Load() {
			out = append(out, o)
		}
	}
	return out
}

// serveMulticast serves a better-ipc "multicast" connection that arrived
// on a discovery port: the same requests and replies as standard mode,
// answered by s. first is its first message.
func (s *Server) serveMulticast(c *conn, first []byte) bool {
	s.init()
	if sniff(first) != BetterIPC {
		return false
	}
	s.serveSeq(c, first, betterCodec{secret: s.Secret}, "")
	return true
}

// errStop ends a dialect's read loop without closing: the session closes
// the connection itself once its replies are written.
var errStop = errors.New("ipc: connection ended")

// request starts one request; it reports false once the connection ended,
// or when the request did not carry the secret (the peer gets its 403 and
// nothing more is read).
func (x *seqSession) request(payload []byte) bool {
	select {
	case x.slots <- struct{}{}:
	case <-x.c.done:
		return false
	}
	r := &seqReply{ready: make(chan struct{})}
	x.order <- r // never blocks: order holds at most as many as slots
	route, args, meta, e := x.codec.decode(payload)
	if e == nil || e.Code != CodeUnauthorized {
		// Before anything is answered: a peer that got a reply is one the
		// server knows (Disconnect finds it by its ID).
		x.authed.Store(true)
	}
	var h Handler
	if e == nil {
		var ok bool
		if h, ok = x.s.cfg.router.Lookup(route); !ok {
			e = &Error{Code: CodeUnknownRoute, Message: fmt.Sprintf("no route %q", route)}
		}
	}
	x.mu.Lock()
	if e == nil && x.shutdown {
		e = &Error{Code: CodeShuttingDown, Message: "server is shutting down"}
	}
	if !x.shutdown {
		// Shutdown returns once this reply is on the wire: counting it
		// only before Shutdown began keeps Add from racing its Wait.
		r.owed = true
		x.owed.Add(1)
	}
	if e != nil {
		x.mu.Unlock()
		r.out = x.codec.failure(e)
		close(r.ready)
		if e.Code == CodeUnauthorized {
			x.denied = true
			return false
		}
		if route != "" {
			x.s.cfg.refused(e, func() Request { return x.requestFor(route, args, meta) })
		}
		return true
	}
	hc := transport.NewContext(Request{}, time.Now().Add(x.s.cfg.dialectTimeout), nil)
	x.running[hc] = struct{}{}
	x.mu.Unlock()
	*hc.Request() = x.requestFor(route, args, meta)
	x.s.cfg.workers.run(func() { x.run(hc, h, r) })
	return true
}

// requestFor is the Request a handler (or a hook) sees. Peer is better-ipc's
// ID header, the only name such a client has.
func (x *seqSession) requestFor(route string, args json.RawMessage, meta map[string]string) Request {
	return Request{Route: trimSlash(route), Args: append(json.RawMessage(nil), argsOrNull(args)...), Meta: meta, Peer: x.id}
}

func (x *seqSession) run(hc *handlerContext, h Handler, r *seqReply) {
	defer hc.Cancel()
	req := hc.Request()
	data, err := servePython(hc, h, req, x.s.cfg.hooks, x.s.cfg.logger)
	x.mu.Lock()
	delete(x.running, hc)
	x.mu.Unlock()
	if err == nil {
		if r.out = x.codec.result(data); len(r.out) > x.c.sendLimit() {
			err = x.c.tooLarge("the reply", len(r.out))
		}
	}
	if err != nil {
		r.out = x.codec.failure(AsError(err))
	}
	close(r.ready)
}

// writer writes the replies in request order, each once it is ready. A
// reply counts as delivered (for Shutdown) only once it is written, or
// once the connection has ended and nobody can receive it.
func (x *seqSession) writer() {
	defer close(x.wrote)
	for r := range x.order {
		select {
		case <-r.ready:
			x.c.writeFrame(r.out)
		case <-x.c.done:
		}
		if r.owed {
			x.owed.Done()
		}
		<-x.slots
	}
}

func (x *seqSession) beginShutdown() {
	x.mu.Lock()
	x.shutdown = true
	x.mu.Unlock()
}

// waitHandlers returns when every request accepted before Shutdown has
// had its reply written: a handler that returned is not enough, its reply
// still has to wait for the ones before it.
func (x *seqSession) waitHandlers() { x.owed.Wait() }

// abortHandlers cancels the running handlers; each still answers (with
// its context's error) so the replies stay in order.
func (x *seqSession) abortHandlers() {
	x.mu.Lock()
	running := x.running
	x.running = make(map[*handlerContext]struct{})
	x.mu.Unlock()
	for hc := range running {
		hc.Cancel()
	}
}

func (x *seqSession) close(code int, reason string) { x.c.close(code, reason) }
