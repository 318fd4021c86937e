package ipc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/ipcord/ipcord/ipc/internal/transport"
	"sync"
	"time"
)

// zonisPeer is one Zonis connection, on either side: it calls routes on the
// other end by packet_id (replies in any order) and serves the other end's
// calls from its router. On a server it is a peer like a native client, so
// Server.Call and Broadcast reach a Zonis bot.
type zonisPeer struct {
	c       *conn
	id      string // the client's identifier (both sides)
	replyID string // identifier on our replies: "SERVER" on a server
	outType string // packet type of our calls
	inType  string // packet type of the calls we serve

	mu       sync.Mutex
	pending  map[string]chan reply
	running  map[*handlerContext]struct{}
	shutdown bool
	hwg      sync.WaitGroup
}

func newZonisPeer(c *conn, id string, server bool) *zonisPeer {
	z := &zonisPeer{c: c, id: id, pending: make(map[string]chan reply), running: make(map[*handlerContext]struct{})}
	if server {
		z.replyID, z.outType, z.inType = zonisServerID, zonisRequest, zonisClientRequest
	} else {
		z.replyID, z.outType, z.inType = id, zonisClientRequest, zonisRequest
	}
	return z
}

// serveZonis completes a Zonis IDENTIFY and serves the connection until it
// ends. A failed IDENTIFY never evicts the holder of the identifier (the
// Python server does); a valid override key, or ReplaceDuplicates,
// replaces it.
func (s *Server) serveZonis(c *conn, first []byte) {
	f, err := decodeZonis(first)
	if err != nil {
		c.close(closeZonisIdentify, "Expected IDENTIFY, received a malformed frame")
		return
	}
	if f.Data.Type != zonisIdentify {
		c.close(closeZonisIdentify, truncateReason("Expected IDENTIFY, received "+f.Data.Type))
		return
	}
	var idd zonisIdentifyData
	if json.Unmarshal(f.Data.Data, &idd) != nil || !secretMatches(s.Secret, idd.SecretKey) {
		c.close(closeZonisSecret, "Invalid secret key.")
		return
	}
	id := f.Data.Identifier
	if id == "" || len(id) > 256 {
		c.close(closeZonisIdentify, "IDENTIFY needs an identifier of 1 to 256 bytes")
		return
	}
	override := s.ZonisOverrideKey != "" && idd.OverrideKey != nil && secretMatches(s.ZonisOverrideKey, *idd.OverrideKey)
	z := newZonisPeer(c, id, true)
	c.peer = id
	switch err := s.addPeer(z, override || s.ReplaceDuplicates); {
	case err == nil:
	case err == ErrClosed:
		c.close(1001, "server shutting down")
		return
	default:
		c.close(closeZonisDuplicate, "Duplicate identifier on IDENTIFY")
		return
	}
	c.onClose = func() { s.removePeer(z) }
	c.writeFrame(appendZonisFrame(nil, f.PacketID, "response", id, zonisIdentify, nil))
	startKeepalive(c)
	readDialect(c, z.handle)
	z.abortHandlers() // the connection ended: nobody waits for those replies
}

// handle processes one frame from the read loop. A frame that does not
// decode is dropped, as the Python router drops it.
func (z *zonisPeer) handle(payload []byte) error {
	f, err := decodeZonis(payload)
	if err != nil {
		z.c.cfg.logger.Debug("ipc: zonis: dropped a frame", "peer", z.id, "err", err)
		return nil
	}
	if f.Type == "response" {
		z.mu.Lock()
		ch := z.pending[f.PacketID]
		delete(z.pending, f.PacketID)
		z.mu.Unlock()
		if ch == nil {
			return nil // late or unknown: dropped
		}
		if f.Data.Type == zonisFailure {
			ch <- reply{err: zonisFailureError(f.Data.Data)}
		} else {
			ch <- reply{data: append([]byte(nil), argsOrNull(f.Data.Data)...)}
		}
		return nil
	}
	z.serve(f)
	return nil
}

// serve runs one call from the other end, or answers it at once.
func (z *zonisPeer) serve(f zonisFrame) {
	pid := f.PacketID
	if f.Data.Type != z.inType {
		z.fail(pid, "", &Error{Code: CodeUnsupported, Message: "packet type " + f.Data.Type + " is not served here"})
		return
	}
	call, err := decodeZonisCall(f.Data.Data)
	if err != nil {
		z.fail(pid, "", &Error{Code: CodeBadRequest, Message: err.Error()})
		return
	}
	h, ok := z.c.cfg.router.Lookup(call.Route)
	var e *Error
	z.mu.Lock()
	switch {
	case !ok:
		e = &Error{Code: CodeUnknownRoute}
	case z.shutdown:
		e = &Error{Code: CodeShuttingDown, Message: "server is shutting down"}
	case len(z.running) >= z.c.cfg.maxInFlight:
		e = &Error{Code: CodeOverloaded, Message: fmt.Sprintf("more than %d requests in flight", z.c.cfg.maxInFlight)}
	}
	if e != nil {
		z.mu.Unlock()
		z.c.cfg.refused(e, func() Request { return z.request(call) })
		z.fail(pid, call.Route, e)
		return
	}
	hc := transport.NewContext(Request{}, time.Now().Add(z.c.cfg.dialectTimeout), nil)
	z.running[hc] = struct{}{}
	z.hwg.Add(1)
	z.mu.Unlock()
	*hc.Request() = z.request(call)
	z.c.cfg.workers.run(func() { z.run(hc, h, pid) })
}

// request is the Request a handler (or a hook) sees for call.
func (z *zonisPeer) request(call zonisCall) Request {
	return Request{
		Route:  trimSlash(call.Route),
		Args:   append(json.RawMessage(nil), argsOrNull(call.Arguments)...),
		Peer:   z.c.peer,
		Caller: z,
	}
}

func (z *zonisPeer) run(hc *handlerContext, h Handler, pid string) {
	defer z.hwg.Done()
	defer hc.Cancel()
	req := hc.Request()
	data, err := servePython(hc, h, req, z.c.cfg.hooks, z.c.cfg.logger)
	z.mu.Lock()
	delete(z.running, hc)
	z.mu.Unlock()
	if err != nil {
		z.fail(pid, req.Route, AsError(err))
		return
	}
	out := appendZonisFrame(nil, pid, "response", z.replyID, zonisSuccess, argsOrNull(data))
	if len(out) > z.c.sendLimit() {
		z.fail(pid, req.Route, z.c.tooLarge("the reply", len(out)))
		return
	}
	z.c.writeFrame(out)
}

func (z *zonisPeer) fail(pid, route string, e *Error) {
	text := appendJSONString(nil, zonisFailureText(route, e))
	z.c.writeFrame(appendZonisFrame(nil, pid, "response", z.replyID, zonisFailure, text))
}

// Call calls route on the other end.
func (z *zonisPeer) Call(ctx context.Context, route string, args, out any) error {
	return callWith(ctx, dialectWire, z.c.cfg.defaultTimeout, route, args, out, func(ctx context.Context, a []byte, timeout time.Duration) ([]byte, error) {
		return z.call(ctx, route, a, timeout)
	})
}

func (z *zonisPeer) call(ctx context.Context, route string, args []byte, timeout time.Duration) ([]byte, error) {
	pid := newPacketID()
	ch := make(chan reply, 1)
	z.mu.Lock()
	if z.c.isDone() {
		z.mu.Unlock()
		return nil, errNotSent
	}
	z.pending[pid] = ch
	z.mu.Unlock()
	forget := func() {
		z.mu.Lock()
		delete(z.pending, pid)
		z.mu.Unlock()
	}
	var expired <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		expired = t.C
	}
	frame := appendZonisFrame(nil, pid, "request", z.id, z.outType, appendZonisCall(nil, route, args))
	if len(frame) > z.c.sendLimit() {
		forget()
		return nil, z.c.tooLarge("the request", len(frame))
	}
	if !z.c.writeFrame(frame) {
		forget()
		return nil, errNotSent
	}
	select {
	case r := <-ch:
		return r.data, r.err
	case <-ctx.Done():
		forget()
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return nil, z.unanswered(route)
		}
		return nil, contextError(ctx)
	case <-expired:
		forget()
		return nil, z.unanswered(route)
	case <-z.c.done:
		select {
		case r := <-ch:
			return r.data, r.err
		default:
			return nil, z.c.lostError()
		}
	}
}

// unanswered is the error of a call whose deadline passed without a reply.
// A Python Zonis peer never answers a call whose route raised (the
// exception only reaches its log), which is the likely reason: say so, or
// the caller is left guessing at a slow network.
func (z *zonisPeer) unanswered(route string) error {
	return &Error{Code: CodeTimeout, Message: fmt.Sprintf(
		"zonis peer %q sent no reply to %q before the deadline; a Python Zonis peer sends none when the route raises an exception, so look for one in its log",
		z.c.peer, route)}
}

func (z *zonisPeer) identifier() string { return z.id }

func (z *zonisPeer) beginShutdown() {
	z.mu.Lock()
	z.shutdown = true
	z.mu.Unlock()
}

func (z *zonisPeer) waitHandlers() { z.hwg.Wait() }

func (z *zonisPeer) abortHandlers() {
	z.mu.Lock()
	running := z.running
	z.running = make(map[*handlerContext]struct{})
	z.mu.Unlock()
	for hc := range running {
		hc.Cancel()
	}
}

func (z *zonisPeer) close(code int, reason string) { z.c.close(code, reason) }
