package ipc

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// seqClient calls a server of an id-less dialect (ext-ipc family,
// better-ipc). Replies carry nothing to match them by, so calls take turns:
// one request on the wire at a time. A call that gives up (timeout,
// cancellation) drops its connection, because its late reply would
// otherwise be read by the next caller as its own.
type seqClient struct {
	c       *Client
	dialect Dialect
	id      string // better-ipc's ID header, stable across reconnects

	turn chan struct{} // held by the call on the wire

	// owned by the holder of turn
	cur        *seqConn
	perRequest bool     // the server closes after each reply (ipcx), or multicast
	server     *url.URL // the server discovery pointed at (ExtIPCDiscovery)
	failures   int      // connection attempts failed in a row
	reached    bool     // a connection came up once: FailFast is over

	up atomic.Bool // the last connection attempt succeeded, and nothing was lost since

	mu     sync.Mutex
	closed bool
	open   map[*seqConn]struct{} // connections whose reader runs
	conns  sync.WaitGroup        // reader goroutines
	drops  sync.WaitGroup        // connections being dropped by dropLater
}

// seqConn is one connection with a reader that answers pings and hands on
// text messages.
type seqConn struct {
	c       *conn
	msgs    chan []byte
	replies int
}

func newSeqClient(c *Client) *seqClient {
	return &seqClient{
		c:          c,
		dialect:    c.cfg.Dialect,
		id:         fmt.Sprintf("%016x", rand.Uint64()),
		turn:       make(chan struct{}, 1),
		open:       make(map[*seqConn]struct{}),
		perRequest: c.cfg.Dialect == BetterIPCMulticast,
	}
}

// warm makes the first connection, so Dial fails when the server cannot
// be reached; a multicast client connects per request and skips it.
func (s *seqClient) warm(ctx context.Context) error {
	if s.perRequest {
		return nil
	}
	backoff := s.c.backoff()
	var last lastFailure
	for {
		sc, err := s.connect(ctx)
		if err == nil {
			s.cur, s.reached = sc, true
			s.up.Store(true)
			return nil
		}
		if permanent(err) {
			return err
		}
		if err := s.c.failFast(err); err != nil {
			return err
		}
		last.note(ctx, err)
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w: %w (last attempt: %w)", ErrNotConnected, ctx.Err(), last.err)
		case <-time.After(backoff()):
		}
	}
}

func (s *seqClient) connect(ctx context.Context) (*seqConn, error) {
	var h http.Header
	if s.dialect == BetterIPC {
		h = http.Header{"ID": {s.id}}
	}
	u := s.c.url
	if s.c.cfg.ExtIPCDiscovery && s.dialect == ExtIPC {
		var err error
		if u, err = s.discover(ctx); err != nil {
			return nil, err
		}
	}
	p, err := s.c.dialPlain(ctx, u, h)
	if err != nil {
		s.server = nil // ask discovery again next time: the server may have moved
		return nil, err
	}
	sc := &seqConn{c: p, msgs: make(chan []byte, 1)}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		p.fail(ErrClosed)
		return nil, ErrClosed
	}
	s.open[sc] = struct{}{}
	s.conns.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.conns.Done()
		defer func() {
			s.mu.Lock()
			delete(s.open, sc)
			s.mu.Unlock()
		}()
		readDialect(p, func(b []byte) error {
			select {
			case sc.msgs <- append([]byte(nil), b...):
			default: // nobody asked: a stray message is dropped
			}
			return nil
		})
	}()
	return sc, nil
}

// drop ends a connection: better-ipc standard drops TCP without a close
// (after a clean close the Python server refuses every new ID), the others
// close cleanly.
func (s *seqClient) drop(sc *seqConn) {
	if s.dialect == BetterIPC {
		sc.c.fail(fmt.Errorf("%w: dropped by the client", ErrConnectionLost))
		return
	}
	sc.c.close(1000, "")
}

// dropLater drops sc without making the caller wait for the close
// handshake: a Python server busy with a route does not read the close
// until the route returns, and the call's deadline has already passed.
func (s *seqClient) dropLater(sc *seqConn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return // close drops every open connection itself
	}
	s.drops.Add(1)
	go func() {
		defer s.drops.Done()
		s.drop(sc)
	}()
}

func (s *seqClient) Call(ctx context.Context, route string, args, out any) error {
	return callWith(ctx, dialectWire, s.c.conf.defaultTimeout, route, args, out, func(ctx context.Context, a []byte, timeout time.Duration) ([]byte, error) {
		ctx, cancel := withTimeout(ctx, timeout)
		defer cancel()
		return s.call(ctx, route, a)
	})
}

func (s *seqClient) call(ctx context.Context, route string, args []byte) ([]byte, error) {
	select {
	case s.turn <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("%w: %w", ErrNotConnected, contextError(ctx))
	}
	defer func() { <-s.turn }()
	var payload []byte
	if s.dialect == ExtIPC {
		payload = appendExtIPCRequest(nil, route, args, s.c.cfg.Secret)
	} else {
		payload = appendBetterRequest(nil, route, args, s.c.cfg.Secret)
	}
	if len(payload) > s.c.conf.maxMessage {
		return nil, &Error{Code: CodeTooLarge, Message: fmt.Sprintf("the request of %d bytes is over the %d bytes the server is taken to accept (ClientConfig.MaxMessage)", len(payload), s.c.conf.maxMessage)}
	}
	for attempt := 0; ; attempt++ {
		sc := s.cur
		if sc != nil && sc.c.isDone() {
			// A server that closed cleanly right after a reply is
			// ipcx-style: from now on, a connection per request.
			if sc.replies > 0 && closeErrorCode(sc.c.err) == 1000 {
				s.perRequest = true
			}
			sc, s.cur = nil, nil
		}
		if sc == nil {
			var err error
			if sc, err = s.connectWaiting(ctx); err != nil {
				return nil, err
			}
			s.cur = sc
		}
		if !sc.c.writeFrame(payload) {
			s.cur = nil
			if attempt == 0 {
				continue // certainly not sent
			}
			return nil, fmt.Errorf("%w: %w", ErrConnectionLost, errNotSent)
		}
		select {
		case msg := <-sc.msgs:
			return s.reply(sc, msg)
		case <-ctx.Done():
			s.cur = nil
			s.dropLater(sc)
			return nil, contextError(ctx)
		case <-sc.c.done:
			select {
			case msg := <-sc.msgs:
				return s.reply(sc, msg)
			default:
			}
			s.cur = nil
			// An ipcx server answers one request per connection and
			// closes: a second request on it was never read, so it is
			// safe to send it again, once, on a fresh connection.
			if attempt == 0 && s.dialect == ExtIPC && sc.replies > 0 && closeErrorCode(sc.c.err) == 1000 {
				s.perRequest = true
				continue
			}
			s.up.Store(false)
			return nil, sc.c.lostError()
		}
	}
}

// connectWaiting connects for a call, trying again with backoff while the
// server is down, until the call's deadline: as a native call waits for
// its client to reconnect. A refusal that will not change (a wrong secret)
// returns at once; ClientConfig.MaxReconnects failures in a row, counted
// across calls, close the client.
func (s *seqClient) connectWaiting(ctx context.Context) (*seqConn, error) {
	backoff := s.c.backoff()
	var last lastFailure
	for {
		sc, err := s.connect(ctx)
		if err == nil {
			s.failures, s.reached = 0, true
			s.up.Store(true)
			return sc, nil
		}
		s.up.Store(false)
		if ended := s.c.Err(); ended != nil {
			return nil, ended
		}
		if permanent(err) {
			return nil, fmt.Errorf("%w: %w", ErrNotConnected, err)
		}
		// A multicast client first connects for its first call, which
		// FailFast then ends as it would have ended Dial.
		if !s.reached {
			if err := s.c.failFast(err); err != nil {
				return nil, err
			}
		}
		s.failures++
		if gaveUp := s.c.failedAttempt(s.failures, err); gaveUp != nil {
			return nil, gaveUp
		}
		last.note(ctx, err)
		t := time.NewTimer(backoff())
		select {
		case <-t.C:
		case <-s.c.stop:
			t.Stop()
			return nil, s.c.Err()
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("%w: %w (last attempt: %w)", ErrNotConnected, contextError(ctx), last.err)
		}
	}
}

// reply decodes a reply; in per-request mode the connection is closed.
func (s *seqClient) reply(sc *seqConn, msg []byte) ([]byte, error) {
	sc.replies++
	if s.perRequest {
		s.cur = nil
		s.dropLater(sc)
	}
	var data json.RawMessage
	var err error
	if s.dialect == ExtIPC {
		data, err = decodeExtIPCReply(msg)
	} else {
		data, err = decodeBetterReply(msg)
	}
	return data, err
}

func (s *seqClient) connected() bool { return s.up.Load() }

// close ends every connection (calls on the wire fail with
// ErrConnectionLost) and waits for their readers.
func (s *seqClient) close() {
	s.mu.Lock()
	s.closed = true
	open := make([]*seqConn, 0, len(s.open))
	for sc := range s.open {
		open = append(open, sc)
	}
	s.mu.Unlock()
	var wg sync.WaitGroup
	for _, sc := range open {
		wg.Go(func() { s.drop(sc) })
	}
	wg.Wait()
	s.drops.Wait()
	s.conns.Wait()
}

// discover asks an ext-ipc discovery listener (the client's URL) for the
// server's port, with the family's handshake:
// {"connect": true, "headers": {"Authorization": <secret>}} answered by
// {"message": "Connection success", "port": <port>, "code": 200} or a 403.
func (s *seqClient) discover(ctx context.Context) (*url.URL, error) {
	if s.server != nil {
		return s.server, nil
	}
	p, err := s.c.dialPlain(ctx, s.c.url, nil)
	if err != nil {
		return nil, fmt.Errorf("ipc: ext-ipc discovery: %w", err)
	}
	defer p.close(1000, "")
	secret := []byte("null")
	if s.c.cfg.Secret != "" {
		secret = appendJSONString(nil, s.c.cfg.Secret)
	}
	p.writeFrame(append(append([]byte(`{"connect": true, "headers": {"Authorization": `), secret...), "}}"...))
	stop := context.AfterFunc(ctx, func() { p.nc.SetReadDeadline(time.Unix(1, 0)) })
	m, err := p.readMessage()
	stop()
	if err != nil {
		return nil, fmt.Errorf("ipc: ext-ipc discovery: %w", err)
	}
	port, err := decodeExtIPCDiscovery(m.Payload)
	if err != nil {
		return nil, err
	}
	u := *s.c.url
	u.Host = net.JoinHostPort(s.c.url.Hostname(), strconv.Itoa(port))
	s.server = &u
	return s.server, nil
}
