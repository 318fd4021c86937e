package ipc

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"sync"
	"syscall"
	"time"

	"github.com/ipcord/ipcord/internal/wsproto"
	"github.com/ipcord/ipcord/ipc/internal/wire"
)

// ClientConfig configures a Client. The zero value of every field but URL
// is usable.
type ClientConfig struct {
	// URL is the server's ws:// or wss:// URL.
	URL string
	// Secret is sent as "Authorization: Bearer <secret>".
	Secret string
	// Identifier names this client to the server (and to the server's
	// calls back). Default: "ipcord-" and random hex.
	Identifier string
	// Router holds routes the server may call on this client. Optional.
	Router *Router
	// Hooks observe the requests this client serves. Optional.
	Hooks *Hooks
	// TLSConfig is used for wss:// URLs. Optional: nil verifies the
	// server against the system's roots. See also TLS.
	TLSConfig *tls.Config
	// TLS adds a CA file, a server name and a client certificate to
	// TLSConfig, for wss:// URLs. Optional.
	TLS ClientTLS
	// Compression offers permessage-deflate to a native server. Off by
	// default.
	Compression Compression
	// DialectCompression is the same for a client speaking a Python
	// dialect, and it is on by default (nil), as the Python servers accept
	// it (aiohttp, websockets). &Compression{} turns it off.
	DialectCompression *Compression

	// MinBackoff and MaxBackoff bound the delay between reconnection
	// attempts, which doubles with jitter. Defaults 100 ms and 10 s.
	MinBackoff, MaxBackoff time.Duration
	// MaxReconnects is how many failed reconnection attempts in a row the
	// client makes before it gives up: it is then closed (Done, Err), and
	// its calls fail with an error matching ErrGaveUp. Zero never gives up.
	// A connection that comes up resets the count; Dial's first connection
	// is bounded by its context instead.
	MaxReconnects int
	// FailFast makes Dial return at once, with an error matching
	// ErrUnreachable, when an attempt finds nothing to connect to at URL
	// (the connection refused, no route to the host, or its name unknown)
	// instead of retrying until its context ends: for a command run by a
	// person, who wants to hear that now. Without it Dial waits for a
	// server that is still starting. Either way a client that connected
	// reconnects by itself. (A BetterIPCMulticast client connects per
	// call: FailFast applies to its calls until one has connected.)
	FailFast bool
	// HandshakeTimeout bounds one connection attempt. Default 10 s.
	HandshakeTimeout time.Duration
	// CallTimeout is the deadline of calls made without one. Default 30 s.
	CallTimeout time.Duration
	// PingInterval and PingMisses: the keepalive, as on Server (defaults
	// 20 s and 2; a negative interval disables it).
	PingInterval time.Duration
	PingMisses   int
	// MaxMessage limits one received message. Default 1 MiB, and 4 MiB
	// (what aiohttp's peers accept) for the Python dialects, whose servers
	// do not say theirs: a request larger than that fails with ErrTooLarge
	// before it is sent.
	MaxMessage int
	// MaxInFlight limits the server's calls running on this client.
	// Default 1024.
	MaxInFlight int
	// WriteTimeout bounds one write. Default 10 s.
	WriteTimeout time.Duration
	// BusyPoll: how long a read polls an empty socket before parking, as
	// on Server (default 200 µs; negative never polls).
	BusyPoll time.Duration
	// Logger receives diagnostics. Nil logs nothing.
	Logger *slog.Logger

	// Dialect is the protocol spoken: Native (ipcord.v1, the default) or
	// one of the Python libraries' (ExtIPC, BetterIPC, BetterIPCMulticast,
	// Zonis), to call a Python bot or dashboard. Call and CallAs work the
	// same; Router serves the server's calls under Zonis only.
	Dialect Dialect
	// ExtIPCDiscovery, with ExtIPC, makes URL a discovery listener (the
	// family's "multicast" port, 20000 by default): the client asks it for
	// the server's port and connects there, as a Python client created
	// without a port does.
	ExtIPCDiscovery bool
	// ZonisOverrideKey is sent in a Zonis IDENTIFY to replace a client
	// already connected with the same Identifier. Optional.
	ZonisOverrideKey string
}

// Client is a connection to an ipcord Server that reconnects by itself.
// Calls are multiplexed on one connection; while it is down, a call waits
// for the next connection until its own deadline. A request is never sent
// twice: one cut off by a lost connection fails with ErrConnectionLost.
type Client struct {
	cfg     ClientConfig
	url     *url.URL
	conf    connConfig
	tlsConf *tls.Config // for wss://, built once by Dial

	mu      sync.Mutex
	cur     *conn
	ready   chan struct{} // closed while cur is usable
	closed  bool
	lastErr error
	endErr  error // why the client is closed for good, nil until then

	stop        chan struct{} // closed when the client ends
	done        chan struct{} // closed once it has released everything
	releaseOnce sync.Once
	wg          sync.WaitGroup

	dialect dialectClient // set when cfg.Dialect is not Native
}

// Dial connects to the server at cfg.URL and returns a Client that stays
// connected until Close. It returns an error when ctx ends before the first
// connection (matching ErrNotConnected), at once when the server refuses
// the client for good (a wrong secret, a duplicate identifier, another
// protocol version), and with cfg.FailFast at once when there is no server
// to connect to (ErrUnreachable). A URL it cannot use is ErrBadURL.
func Dial(ctx context.Context, cfg ClientConfig) (*Client, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadURL, err)
	}
	if u.Scheme != "ws" && u.Scheme != "wss" {
		return nil, fmt.Errorf("%w: %q: the scheme must be ws or wss", ErrBadURL, cfg.URL)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("%w: %q has no host", ErrBadURL, cfg.URL)
	}
	if cfg.Identifier == "" {
		cfg.Identifier = fmt.Sprintf("ipcord-%016x", rand.Uint64())
	}
	c := &Client{cfg: cfg, url: u, ready: make(chan struct{}), stop: make(chan struct{}), done: make(chan struct{})}
	if u.Scheme == "wss" {
		if c.tlsConf, err = cfg.TLS.config(cfg.TLSConfig); err != nil {
			return nil, err
		}
	}
	if cfg.Dialect != Native && cfg.MaxMessage == 0 {
		cfg.MaxMessage = dialectMaxMessage
		c.cfg.MaxMessage = dialectMaxMessage
	}
	c.conf = connConfig{
		router:         cfg.Router,
		hooks:          cfg.Hooks,
		logger:         cfg.Logger,
		maxMessage:     cfg.MaxMessage,
		maxInFlight:    cfg.MaxInFlight,
		pingInterval:   cfg.PingInterval,
		pingMisses:     cfg.PingMisses,
		writeTimeout:   cfg.WriteTimeout,
		defaultTimeout: cfg.CallTimeout,
		busyPoll:       cfg.BusyPoll,
		workers:        newWorkers(64),
		compress:       newCompressor(cfg.Compression),
	}.withDefaults()
	if cfg.Dialect != Native {
		c.conf.compress = dialectCompressor(cfg.DialectCompression)
		return dialDialect(ctx, c)
	}

	backoff := c.backoff()
	var last lastFailure
	for {
		p, err := c.connect(ctx)
		if err == nil {
			c.publish(p) // State says connected once Dial returns
			c.wg.Add(1)
			go c.maintain(p)
			return c, nil
		}
		if permanent(err) {
			return nil, err
		}
		if err := c.failFast(err); err != nil {
			return nil, err
		}
		c.conf.logger.Debug("ipc: connect failed", "url", c.cfg.URL, "err", err)
		last.note(ctx, err)
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("%w: %w (last attempt: %w)", ErrNotConnected, ctx.Err(), last.err)
		case <-time.After(backoff()):
		}
	}
}

// lastFailure is the attempt error a retry loop reports when its context
// ends: the latest attempt that failed for a reason of its own. An attempt
// begun just before the deadline fails with a timeout that the context's
// end caused, which would hide why the attempts failed.
type lastFailure struct{ err error }

func (l *lastFailure) note(ctx context.Context, err error) {
	if l.err == nil || ctx.Err() == nil {
		l.err = err
	}
}

// permanent reports errors that make Dial give up at once. A duplicate
// identifier is one for Dial (someone else holds it), but not for the
// reconnect loop: there the holder is usually our own previous connection,
// which the server drops when its keepalive notices.
func permanent(err error) bool {
	return errors.Is(err, ErrUnauthorized) || errors.Is(err, ErrVersion) || errors.Is(err, ErrTLS) ||
		errors.Is(err, ErrDuplicateIdentifier)
}

// failFast returns the error Dial gives up with when ClientConfig.FailFast
// is set and a connection attempt's err says there is nothing to connect
// to, else nil to keep trying.
func (c *Client) failFast(err error) error {
	var dns *net.DNSError
	if !c.cfg.FailFast || !(errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.EHOSTUNREACH) ||
		errors.Is(err, syscall.ENETUNREACH) || errors.As(err, &dns) && dns.IsNotFound) {
		return nil
	}
	return fmt.Errorf("%w: %s: %w", ErrUnreachable, c.cfg.URL, err)
}

// backoff returns a function giving successive reconnection delays:
// doubling from MinBackoff to MaxBackoff, each with up to 50% jitter so a
// restarted server is not hit by every client at once.
func (c *Client) backoff() func() time.Duration {
	lo, hi := orDefault(c.cfg.MinBackoff, 100*time.Millisecond), orDefault(c.cfg.MaxBackoff, 10*time.Second)
	d := lo
	return func() time.Duration {
		cur := d
		d = min(2*d, hi)
		return cur/2 + rand.N(cur/2+1)
	}
}

// publish makes p the connection calls use; false once the client ended.
func (c *Client) publish(p *conn) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return false
	}
	select {
	case <-c.ready:
		// Left closed by a connection that ended before it was published.
		c.ready = make(chan struct{})
	default:
	}
	c.cur = p
	close(c.ready)
	return true
}

// maintain owns the connection: it waits for p (published) to end, and
// reconnects, publishing each new connection, until the client ends.
func (c *Client) maintain(p *conn) {
	defer c.wg.Done()
	for {
		select {
		case <-p.done:
		case <-c.stop:
			p.close(int(wsproto.CloseNormal), "client closed")
			return
		}
		c.mu.Lock()
		if c.cur == p {
			// p's onClose did this unless p ended before it was published.
			c.cur, c.ready = nil, make(chan struct{})
		}
		c.mu.Unlock()
		c.conf.logger.Info("ipc: connection lost; reconnecting", "url", c.cfg.URL, "err", p.err)

		backoff := c.backoff()
		for failures := 1; ; failures++ {
			select {
			case <-c.stop:
				return
			case <-time.After(backoff()):
			}
			ctx, cancel := context.WithCancel(context.Background())
			go func() {
				select {
				case <-c.stop:
					cancel()
				case <-ctx.Done():
				}
			}()
			np, err := c.connect(ctx)
			cancel()
			if err == nil {
				p = np
				break
			}
			c.mu.Lock()
			c.lastErr = err
			c.mu.Unlock()
			c.conf.logger.Debug("ipc: reconnect failed", "url", c.cfg.URL, "err", err)
			if c.failedAttempt(failures, err) != nil {
				return
			}
		}
		if !c.publish(p) {
			p.close(int(wsproto.CloseNormal), "client closed")
			return
		}
	}
}

// connected returns the current connection, or nil while there is none.
func (c *Client) connected() *conn {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || c.cur == nil || c.cur.isDone() {
		return nil
	}
	return c.cur
}

// conn returns the current connection, waiting for one until ctx ends.
func (c *Client) conn(ctx context.Context) (*conn, error) {
	for {
		c.mu.Lock()
		p, ready, ended, last := c.cur, c.ready, c.endErr, c.lastErr
		c.mu.Unlock()
		if ended != nil {
			return nil, ended
		}
		if p != nil && !p.isDone() {
			return p, nil
		}
		select {
		case <-ready:
		case <-c.stop:
		case <-ctx.Done():
			if last != nil {
				return nil, fmt.Errorf("%w: %w (last error: %w)", ErrNotConnected, contextError(ctx), last)
			}
			return nil, fmt.Errorf("%w: %w", ErrNotConnected, contextError(ctx))
		}
	}
}

// Call calls route on the server; see Caller.
func (c *Client) Call(ctx context.Context, route string, args, out any) error {
	if c.dialect != nil {
		return c.dialect.Call(ctx, route, args, out)
	}
	return callWith(ctx, nativeWire, c.conf.defaultTimeout, route, args, out, func(ctx context.Context, a []byte, timeout time.Duration) ([]byte, error) {
		for {
			p := c.connected()
			if p == nil {
				// The slow path: wait for a connection, under the deadline.
				if timeout > 0 {
					var cancel context.CancelFunc
					ctx, cancel = context.WithTimeout(ctx, timeout)
					defer cancel()
					timeout = 0
				}
				var err error
				if p, err = c.conn(ctx); err != nil {
					return nil, err
				}
			}
			data, err := p.call(ctx, route, a, timeout)
			if errors.Is(err, errNotSent) {
				continue // that connection was already gone: wait for the next
			}
			return data, err
		}
	})
}

// Routes returns the routes the server announced in its last hello.
func (c *Client) Routes(ctx context.Context) ([]string, error) {
	if c.dialect != nil {
		return nil, &Error{Code: CodeUnsupported, Message: fmt.Sprintf("the %s dialect does not list routes", c.cfg.Dialect)}
	}
	p, err := c.conn(ctx)
	if err != nil {
		return nil, err
	}
	return p.peerRoutes, nil
}

// Identifier returns the identifier this client presents to the server.
func (c *Client) Identifier() string { return c.cfg.Identifier }

// Close closes the connection and stops reconnecting. Calls in flight fail
// with ErrConnectionLost, later calls with ErrClosed. It returns once the
// client has released everything (Done is closed); calling it again, or
// after the client gave up, does no harm.
func (c *Client) Close() error {
	c.mu.Lock()
	if c.endErr == nil {
		c.endErr, c.closed = ErrClosed, true
	}
	c.mu.Unlock()
	c.release()
	return nil
}

// dialSocket opens the TCP connection to u (and its TLS session for
// wss://) for a WebSocket handshake bounded by ctx: the socket's deadline
// is ctx's, and ctx ending makes a blocked read or write return. The caller
// calls stop once the handshake is over (and clears the deadline).
func (c *Client) dialSocket(ctx context.Context, u *url.URL) (nc net.Conn, stop func() bool, err error) {
	host := u.Host
	if u.Port() == "" {
		port := "80"
		if u.Scheme == "wss" {
			port = "443"
		}
		host = net.JoinHostPort(u.Hostname(), port)
	}
	var d net.Dialer
	if nc, err = d.DialContext(ctx, "tcp", host); err != nil {
		return nil, nil, err
	}
	if u.Scheme == "wss" {
		cfg := c.tlsConf.Clone() // ClientConfig.TLS over TLSConfig, made by Dial
		if cfg == nil {
			cfg = &tls.Config{}
		}
		if cfg.ServerName == "" {
			cfg.ServerName = u.Hostname()
		}
		tc := tls.Client(nc, cfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			nc.Close()
			return nil, nil, tlsRefusal(fmt.Errorf("ipc: TLS handshake with %s: %w", host, err))
		}
		nc = tc
	}
	if dl, ok := ctx.Deadline(); ok {
		nc.SetDeadline(dl)
	}
	stop = context.AfterFunc(ctx, func() { nc.SetDeadline(time.Unix(1, 0)) })
	return nc, stop, nil
}

// connect makes one connection: TCP (and TLS), the upgrade, and the hello
// exchange.
func (c *Client) connect(ctx context.Context) (*conn, error) {
	ctx, cancel := context.WithTimeout(ctx, orDefault(c.cfg.HandshakeTimeout, 10*time.Second))
	defer cancel()
	nc, stopWatch, err := c.dialSocket(ctx, c.url)
	if err != nil {
		return nil, err
	}
	defer stopWatch()

	p, err := c.handshake(nc)
	if err != nil {
		err = tlsRefusal(err) // TLS 1.3: a refused client certificate shows here
		nc.Close()
		if ctx.Err() != nil {
			return nil, fmt.Errorf("ipc: connecting to %s: %w", c.cfg.URL, ctx.Err())
		}
		return nil, err
	}
	nc.SetDeadline(time.Time{})
	p.onClose = func() {
		c.mu.Lock()
		if c.cur == p {
			c.cur, c.lastErr = nil, p.err
			c.ready = make(chan struct{})
		}
		c.mu.Unlock()
	}
	p.start()
	return p, nil
}

func (c *Client) handshake(nc net.Conn) (*conn, error) {
	h := http.Header{}
	h.Set("Ipcord-Client", c.cfg.Identifier)
	if c.cfg.Secret != "" {
		h.Set("Authorization", "Bearer "+c.cfg.Secret)
	}
	req := &wsproto.Request{URL: c.url, Key: wsproto.NewKey(), Subprotocols: []string{Subprotocol}, Header: h}
	if c.conf.compress != nil {
		req.Extensions = wsproto.DeflateOffer
	}
	if _, err := nc.Write(req.Append(nil)); err != nil {
		return nil, err
	}
	br := bufio.NewReaderSize(nc, 4096)
	var buf []byte
	for {
		chunk := make([]byte, 4096)
		n, err := br.Read(chunk)
		buf = append(buf, chunk[:n]...)
		resp, used, ok, perr := wsproto.ParseResponse(buf, req)
		if perr != nil {
			var he *wsproto.HandshakeError
			if errors.As(perr, &he) && he.Status == http.StatusUnauthorized {
				return nil, fmt.Errorf("%w: the server refused the secret", ErrUnauthorized)
			}
			return nil, handshakeError(perr)
		}
		if ok {
			if resp.Subprotocol != Subprotocol {
				return nil, fmt.Errorf("%w: the server did not accept the %s subprotocol", ErrVersion, Subprotocol)
			}
			deflate, err := wsproto.CheckDeflateResponse(resp.Extensions)
			if err != nil {
				return nil, handshakeError(err)
			}
			p := newConn(&c.conf, nc, wsproto.Client)
			if deflate {
				p.enableCompression(c.conf.compress)
			}
			p.dec.Feed(buf[used:])
			return c.hello(p)
		}
		if err != nil {
			return nil, fmt.Errorf("ipc: reading upgrade response: %w", err)
		}
	}
}

// hello exchanges hello frames: ours first, then the server's, which may
// instead be a close refusing us.
func (c *Client) hello(p *conn) (*conn, error) {
	p.writeFrame(wire.AppendHello(nil, c.cfg.Identifier, c.conf.router.nativeRoutes(), c.conf.maxMessage))
	m, err := p.readMessage()
	if err != nil {
		var ce *CloseError
		if errors.As(err, &ce) {
			switch ce.Code {
			case closeDuplicate:
				return nil, fmt.Errorf("%w: %q: %s", ErrDuplicateIdentifier, c.cfg.Identifier, ce.Reason)
			case closeVersion:
				return nil, fmt.Errorf("%w: %s", ErrVersion, ce.Reason)
			}
		}
		return nil, err
	}
	f, err := wire.Decode(m.Payload)
	if err != nil || f.Type != wire.TypeHello {
		return nil, fmt.Errorf("%w: the server's first message is not a hello", ErrVersion)
	}
	if f.Version != 1 {
		return nil, fmt.Errorf("%w: server speaks %d", ErrVersion, f.Version)
	}
	p.peer = f.Identifier
	p.peerRoutes = f.Routes
	p.peerMax = int(min(f.MaxMessage, 1<<62))
	return p, nil
}
