package ipc

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ipcord/ipcord/internal/wsproto"
	"github.com/ipcord/ipcord/ipc/internal/wire"
)

// Subprotocol is the WebSocket subprotocol of ipcord's native protocol.
const Subprotocol = "ipcord.v1"

// Server serves a Router over WebSocket to ipcord clients, and calls the
// routes those clients serve. Its zero value is usable: set the fields
// before serving and do not change them after.
//
// A Server is an http.Handler, so it mounts on any path of any router; or
// use Serve and ListenAndServe.
type Server struct {
	// Router holds the routes served to clients. Nil serves no routes.
	Router *Router
	// Secret is the shared secret clients present as
	// "Authorization: Bearer <secret>". Empty accepts every client: only
	// for servers reachable from trusted hosts. It is never logged.
	Secret string
	// Name identifies this server to its clients (in hello and to
	// discovery). Default "server".
	Name string
	// ReplaceDuplicates lets a client replace a connected client with the
	// same identifier (the old connection is closed). By default the newer
	// one is refused with close code 4102.
	ReplaceDuplicates bool
	// ZonisOverrideKey, when set, lets a Zonis client presenting it in
	// IDENTIFY replace a connected client with the same identifier.
	ZonisOverrideKey string

	// HandshakeTimeout bounds the time from upgrade to a recognised first
	// message. Default 10 s.
	HandshakeTimeout time.Duration
	// MaxHandshakes bounds connections not yet past their first message;
	// past it, upgrades are refused with 503. Default 128.
	MaxHandshakes int
	// MaxMessage limits one received message in bytes on native
	// connections. Default 1 MiB. It is announced in the hello, so a
	// client's larger request fails that call (too_large) without ending
	// the connection; the client's own limit bounds the replies alike.
	MaxMessage int
	// DialectMaxMessage is the same for the Python dialects, both what
	// their peers may send and the largest reply sent to them (their
	// clients do not say theirs). Default 4 MiB, what aiohttp's accept.
	DialectMaxMessage int
	// MaxInFlight limits the requests a connection may have running;
	// further ones are answered overloaded. Default 1024.
	MaxInFlight int
	// PingInterval is the keepalive interval (default 20 s; negative
	// disables); a connection from which nothing was read for PingMisses
	// intervals (default 2) is dropped.
	PingInterval time.Duration
	PingMisses   int
	// WriteTimeout bounds one write to a client; a client that does not
	// take its data in time is dropped. Default 10 s.
	WriteTimeout time.Duration
	// BusyPoll is how long, on Linux, a read that finds a plain TCP or
	// Unix socket empty polls it before waiting in the runtime's poller,
	// while messages have been arriving within that time. Replies and
	// requests that come back to back then skip waking an idle CPU, which
	// costs 25–30 µs on a virtual machine. Default 200 µs, at most one
	// connection of the process at a time; negative never polls, for a
	// process that must not spend CPU waiting.
	BusyPoll time.Duration
	// CallTimeout is the deadline of calls made without one: calls from
	// this server, and requests arriving without timeout_ms. Default 30 s.
	CallTimeout time.Duration
	// DialectTimeout is the deadline of requests from the Python dialects
	// (ext-ipc family, better-ipc, Zonis), whose frames carry none: the
	// handler's context ends then and the peer gets the dialect's error
	// (500, or Zonis's FAILURE_RESPONSE). The Python servers let a route
	// run as long as it likes, so a stuck route would hold its connection
	// (and, on ext-ipc, every reply after it) for ever. Default: CallTimeout.
	DialectTimeout time.Duration
	// MaxRequestTimeout caps the deadline a client's request asks for
	// (timeout_ms), so a client cannot keep a handler's context alive for
	// days. Default 5 min.
	MaxRequestTimeout time.Duration

	// Compression enables permessage-deflate for native clients that offer
	// it. Off by default.
	Compression Compression
	// DialectCompression is the same for the Python dialects' clients, and
	// it is on by default (nil): such a client that offers
	// permessage-deflate (better-ipc's and Zonis's do, through websockets;
	// aiohttp's with compress=15) gets it, as from the Python servers.
	// &Compression{} turns it off.
	DialectCompression *Compression
	// TLS serves wss:// from Serve and ListenAndServe. Optional.
	TLS TLS

	// Hooks observe every request served. Optional.
	Hooks *Hooks
	// Logger receives diagnostics. Nil logs nothing.
	Logger *slog.Logger

	initOnce sync.Once
	cfg      connConfig
	slots    chan struct{}
	// dialectMax is DialectMaxMessage or its default.
	dialectMax int
	// dialectCompress is DialectCompression's compressor, nil when off.
	dialectCompress *compressor

	mu       sync.Mutex
	closing  bool
	clients  map[string]peer      // callable clients by identifier
	sessions map[session]struct{} // every accepted connection, any dialect
	servers  []*http.Server
	url      string // of the first listener Serve was given
}

// Hooks observe the requests a Server (or a Client, for the routes it
// serves) handles. The functions run on the request's goroutine and must
// not block for long; a hook that panics is recovered and logged, and the
// request keeps its outcome.
type Hooks struct {
	// OnRequest runs for every request, before its handler; a request
	// answered without one (unknown route, overload, shutdown) is seen
	// too, followed by OnError and OnComplete with its answer. A request
	// without the secret is not. A dialect request's Meta holds what else
	// its peer sent (ext-ipc's headers, the secret left out), its Peer the
	// peer's name (better-ipc's ID, Zonis's identifier).
	OnRequest func(ctx context.Context, req *Request)
	// OnComplete runs after every request, with its duration and its
	// error (nil on success).
	OnComplete func(ctx context.Context, req *Request, took time.Duration, err error)
	// OnError runs when a request fails, handler panics included.
	OnError func(ctx context.Context, req *Request, err error)
}

func (s *Server) init() {
	s.initOnce.Do(func() {
		s.cfg = connConfig{
			router:         s.Router,
			hooks:          s.Hooks,
			logger:         s.Logger,
			maxMessage:     s.MaxMessage,
			maxInFlight:    s.MaxInFlight,
			pingInterval:   s.PingInterval,
			pingMisses:     s.PingMisses,
			writeTimeout:   s.WriteTimeout,
			defaultTimeout: s.CallTimeout,
			maxTimeout:     s.MaxRequestTimeout,
			dialectTimeout: s.DialectTimeout,
			busyPoll:       s.BusyPoll,
			workers:        newWorkers(256),
			compress:       newCompressor(s.Compression),
		}.withDefaults()
		s.slots = make(chan struct{}, orDefault(s.MaxHandshakes, 128))
		s.dialectMax = orDefault(s.DialectMaxMessage, dialectMaxMessage)
		s.dialectCompress = dialectCompressor(s.DialectCompression)
		s.clients = make(map[string]peer)
		s.sessions = make(map[session]struct{})
	})
}

func orDefault[T int | time.Duration](v, def T) T {
	if v == 0 {
		return def
	}
	return v
}

func orDiscard(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}

func (s *Server) name() string {
	if s.Name == "" {
		return "server"
	}
	return s.Name
}

// ServeHTTP upgrades the request to a WebSocket connection and serves it.
// Connections offering the ipcord.v1 subprotocol must carry the secret;
// others are identified by their first message (the Python dialects).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.init()
	if s.isClosing() {
		http.Error(w, "server is shutting down", http.StatusServiceUnavailable)
		return
	}
	native := slices.Contains(wsproto.Subprotocols(r), Subprotocol)
	if native && !s.authorized(r.Header.Get("Authorization")) {
		// Every failure gets the same answer, and the secret is not logged.
		s.cfg.logger.Debug("ipc: refused client: bad secret", "remote", r.RemoteAddr)
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	proto, ext, deflate := "", "", false
	z := s.dialectCompress
	if native {
		proto, z = Subprotocol, s.cfg.compress
	}
	if z != nil {
		ext, deflate = wsproto.AcceptDeflate(r.Header.Values("Sec-Websocket-Extensions"))
	}
	nc, buffered, release, ok := upgrade(w, r, s.slots, proto, ext)
	if !ok {
		return
	}
	c := newConn(&s.cfg, nc, wsproto.Server)
	if !native {
		c.dec.MaxMessage = s.dialectMax
		c.peerMax = s.dialectMax
	}
	if deflate {
		c.enableCompression(z)
	}
	c.dec.Feed(buffered)
	first, err := c.firstMessage(orDefault(s.HandshakeTimeout, 10*time.Second), release)
	if err != nil {
		s.cfg.logger.Debug("ipc: handshake failed", "remote", r.RemoteAddr, "err", err)
		c.fail(err)
		return
	}
	if !native {
		s.serveDialect(c, first, r.Header.Get("ID"))
		return
	}
	s.serveNative(c, first, r.Header.Get("Ipcord-Client"))
}

func (s *Server) authorized(header string) bool {
	if s.Secret == "" {
		return true
	}
	got, ok := strings.CutPrefix(header, "Bearer ")
	if !ok {
		return false
	}
	// Hash both so the comparison takes the same time whatever the length.
	a, b := sha256.Sum256([]byte(got)), sha256.Sum256([]byte(s.Secret))
	return subtle.ConstantTimeCompare(a[:], b[:]) == 1
}

// serveNative completes the ipcord.v1 handshake: the client's hello, then
// ours, then the connection is registered under the client's identifier.
func (s *Server) serveNative(c *conn, first wsproto.Message, hint string) {
	if first.Op != wsproto.OpText {
		c.close(int(wsproto.CloseUnsupportedData), "expected a hello text message")
		return
	}
	f, err := wire.Decode(first.Payload)
	switch {
	case err != nil || f.Type != wire.TypeHello:
		c.close(int(wsproto.CloseProtocolError), "first message must be hello")
		return
	case f.Version != 1:
		c.close(closeVersion, fmt.Sprintf("protocol version %d not supported; this server speaks 1", f.Version))
		return
	case hint != "" && hint != f.Identifier:
		c.close(int(wsproto.ClosePolicyViolation), "Ipcord-Client header does not match hello id")
		return
	case len(f.Identifier) > 256:
		c.close(int(wsproto.ClosePolicyViolation), "identifier longer than 256 bytes")
		return
	}
	c.peer = f.Identifier
	if !s.register(c) {
		return
	}
	c.peerMax = int(min(f.MaxMessage, 1<<62))
	c.writeFrame(wire.AppendHello(nil, s.name(), s.cfg.router.nativeRoutes(), s.cfg.maxMessage))
	c.start()
}

// session is one accepted connection of any dialect, as Shutdown sees it.
type session interface {
	// beginShutdown makes the session answer new requests shutting_down.
	beginShutdown()
	// waitHandlers returns when no handler of the session is running.
	waitHandlers()
	// abortHandlers answers running requests shutting_down and cancels them.
	abortHandlers()
	// close ends the session with a WebSocket close code.
	close(code int, reason string)
}

// peer is a session the server can call, known by its identifier: a native
// client, or (for the dialects that have them) an identified Python client.
type peer interface {
	session
	Caller
	identifier() string
}

// register adds c to the connected clients, resolving a duplicate
// identifier; it reports whether c may go on.
func (s *Server) register(c *conn) bool {
	err := s.addPeer(c, s.ReplaceDuplicates)
	switch {
	case errors.Is(err, ErrClosed):
		c.close(int(wsproto.CloseGoingAway), "server shutting down")
		return false
	case err != nil:
		c.close(closeDuplicate, "a client with this identifier is already connected")
		return false
	}
	c.onClose = func() { s.removePeer(c) }
	return true
}

// addPeer registers p under its identifier. A holder of the identifier is
// replaced (and closed with 4102) when replace is set; otherwise p is
// refused with ErrDuplicateIdentifier and the holder stays. After Shutdown
// began it returns ErrClosed.
func (s *Server) addPeer(p peer, replace bool) error {
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		return ErrClosed
	}
	old := s.clients[p.identifier()]
	if old != nil && !replace {
		s.mu.Unlock()
		return ErrDuplicateIdentifier
	}
	s.clients[p.identifier()] = p
	s.sessions[p] = struct{}{}
	s.mu.Unlock()
	if old != nil {
		go old.close(closeDuplicate, "replaced by a newer connection with the same identifier")
	}
	s.cfg.logger.Info("ipc: client connected", "client", p.identifier())
	return nil
}

// removePeer forgets p once its connection has ended.
func (s *Server) removePeer(p peer) {
	s.mu.Lock()
	delete(s.sessions, p)
	if s.clients[p.identifier()] == p {
		delete(s.clients, p.identifier())
	}
	s.mu.Unlock()
	s.cfg.logger.Info("ipc: client disconnected", "client", p.identifier())
}

// track adds a session without an identifier (a dialect whose clients
// cannot be called) so Shutdown drains it; false after Shutdown began.
func (s *Server) track(x session) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return false
	}
	s.sessions[x] = struct{}{}
	return true
}

// untrack forgets a session tracked with track.
func (s *Server) untrack(x session) {
	s.mu.Lock()
	delete(s.sessions, x)
	s.mu.Unlock()
}

// serveDialect hands a connection without the ipcord.v1 subprotocol to the
// dialect its first message belongs to. It returns when the connection ends.
func (s *Server) serveDialect(c *conn, first wsproto.Message, id string) {
	if first.Op != wsproto.OpText {
		c.close(int(wsproto.CloseUnsupportedData), "expected a text message")
		return
	}
	switch sniff(first.Payload) {
	case ExtIPC:
		s.serveSeq(c, first.Payload, extIPCCodec{secret: s.Secret}, "")
	case BetterIPC:
		s.serveSeq(c, first.Payload, betterCodec{secret: s.Secret}, id)
	case Zonis:
		s.serveZonis(c, first.Payload)
	default:
		c.close(int(wsproto.ClosePolicyViolation), "unrecognised protocol: offer the ipcord.v1 subprotocol")
	}
}

func (s *Server) isClosing() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closing
}

// Serve accepts connections on ln until Shutdown, over TLS (wss://) when
// TLS is set. It returns ErrClosed after Shutdown, the listener's error, or
// an error wrapping ErrTLSConfig when the certificate cannot be loaded.
func (s *Server) Serve(ln net.Listener) error {
	s.init()
	return serveHTTP(ln, s, s.TLS, orDefault(s.HandshakeTimeout, 10*time.Second), s.cfg.logger, func(hs *http.Server, url string) bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.closing {
			return false
		}
		s.servers = append(s.servers, hs)
		if s.url == "" {
			s.url = url
		}
		return true
	})
}

// URL returns the ws:// or wss:// URL of the first listener given to Serve
// (or ListenAndServe), or "" before that. Discovery announces it.
func (s *Server) URL() string {
	s.init()
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.url
}

// ListenAndServe listens on addr (host:port) and serves, like Serve.
func (s *Server) ListenAndServe(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	return s.Serve(ln)
}

// Shutdown stops accepting connections and requests, lets running
// handlers finish until ctx ends, answers the rest shutting_down, and
// closes every connection with 1001. It returns ctx's error when handlers
// had to be cut short.
func (s *Server) Shutdown(ctx context.Context) error {
	s.init()
	s.mu.Lock()
	s.closing = true
	servers := s.servers
	conns := slices.Collect(maps.Keys(s.sessions))
	s.mu.Unlock()

	for _, hs := range servers {
		hs.Close() // hijacked connections are ours, not net/http's
	}
	for _, c := range conns {
		c.beginShutdown()
	}
	idle := make(chan struct{})
	go func() {
		for _, c := range conns {
			c.waitHandlers()
		}
		close(idle)
	}()
	var err error
	select {
	case <-idle:
	case <-ctx.Done():
		err = ctx.Err()
		for _, c := range conns {
			c.abortHandlers()
		}
	}
	var wg sync.WaitGroup
	for _, c := range conns {
		wg.Go(func() { c.close(int(wsproto.CloseGoingAway), "server shutting down") })
	}
	wg.Wait()
	s.cfg.workers.stop()
	return err
}

// Clients returns the identifiers of the connected clients, sorted.
func (s *Server) Clients() []string {
	s.init()
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Sorted(maps.Keys(s.clients))
}

// Disconnect closes the connection of the client connected as identifier
// (a native client or a Zonis bot; for better-ipc, every connection with
// that ID header), as Zonis's Server.disconnect does: the server's calls
// to it fail with ErrConnectionLost, its running handlers are canceled,
// and it is closed with 1000 "disconnected by the server". It does not ban
// it: an ipcord Client, like Zonis's, connects again by itself (change the
// secret to keep it out). It returns once the connections are closed, or
// an error matching ErrUnknownClient when none had that identifier.
func (s *Server) Disconnect(identifier string) error {
	s.init()
	s.mu.Lock()
	var victims []session
	if p := s.clients[identifier]; p != nil {
		victims = append(victims, p)
	}
	s.mu.Unlock()
	for _, x := range s.seqSessionsWithID(identifier, nil) {
		victims = append(victims, x)
	}
	if len(victims) == 0 {
		return &Error{Code: CodeUnknownClient, Message: fmt.Sprintf("no client %q is connected", identifier)}
	}
	var wg sync.WaitGroup
	for _, v := range victims {
		wg.Go(func() { v.close(int(wsproto.CloseNormal), "disconnected by the server") })
	}
	wg.Wait()
	s.cfg.logger.Info("ipc: client disconnected by the server", "client", identifier)
	return nil
}

// Connections returns the number of open connections past their first
// message, of every dialect: what a metrics gauge or a health check reads.
func (s *Server) Connections() int {
	s.init()
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sessions)
}

// Client returns a Caller for the client connected as identifier. The
// client is looked up at each call, so the Caller follows reconnects; a
// call while it is not connected fails with ErrUnknownClient.
func (s *Server) Client(identifier string) Caller {
	return clientCaller{s, identifier}
}

type clientCaller struct {
	s  *Server
	id string
}

func (cc clientCaller) Call(ctx context.Context, route string, args, out any) error {
	return cc.s.Call(ctx, cc.id, route, args, out)
}

// Call calls route on the client connected as identifier.
func (s *Server) Call(ctx context.Context, identifier, route string, args, out any) error {
	s.init()
	s.mu.Lock()
	c := s.clients[identifier]
	s.mu.Unlock()
	if c == nil {
		return &Error{Code: CodeUnknownClient, Message: fmt.Sprintf("no client %q is connected", identifier)}
	}
	return c.Call(ctx, route, args, out)
}
