package gateway

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"runtime"
	"strings"
	"time"

	"github.com/ipcord/ipcord/internal/wsproto"
)

type connState int

const (
	stateIdle      connState = iota // no connection: call Connect
	stateHandshake                  // upgrade request sent, waiting for 101
	stateOpen                       // WebSocket open
	stateClosed                     // closed or broken: call Connect
)

// Conn is one shard's gateway connection as a state machine: bytes in,
// events and bytes to send out. It does no I/O, starts no goroutines and
// reads no clock; a driver (gateway/shard, a test, any event loop) dials,
// writes Output, feeds what it reads to Receive, drains Next and calls Tick
// at NextDeadline.
//
// The session (id, sequence, resume URL) outlives connections: Connect
// starts a new WebSocket and a new inflater and keeps it, so the next
// HELLO is answered with RESUME. A Conn is not safe for concurrent use.
type Conn struct {
	cfg Config
	log *slog.Logger

	// Session: survives Connect.
	sessionID string
	resumeURL string
	seq       int64
	hasSeq    bool

	// Connection: reset by Connect.
	state      connState
	resuming   bool // this connection resumes (vs identifies)
	req        wsproto.Request
	handshake  []byte // received bytes before the 101 reply completed
	ws         wsproto.Decoder
	out        []byte // framed bytes waiting for the driver
	closeSent  bool
	err        error // sticky: why the connection is unusable
	zlib       *zlibInflater
	zstd       *zstdInflater
	hello      bool
	identSent  bool
	resumeSent bool

	// Heartbeats: reset by each HELLO.
	interval   time.Duration
	nextBeat   time.Time // zero: first beat not scheduled yet
	beatSent   bool      // a heartbeat went out this connection
	readSince  bool      // bytes arrived since the last heartbeat went out
	notReading bool      // the driver stopped reading the socket: no zombie verdict

	decompressFailures int

	// Reused so that a dispatch costs no allocation.
	dispatch Dispatch
	env      envelope
	names    map[string]string
	scratch  []byte
}

// New returns a Conn for cfg. It checks the config but does not connect:
// call Connect.
func New(cfg Config) (*Conn, error) {
	if cfg.Token == "" {
		return nil, fmt.Errorf("%w: config: empty token", ErrState)
	}
	if cfg.ShardCount < 0 || cfg.ShardID < 0 || (cfg.ShardCount > 0 && cfg.ShardID >= cfg.ShardCount) {
		return nil, fmt.Errorf("%w: config: shard %d of %d", ErrState, cfg.ShardID, cfg.ShardCount)
	}
	if cfg.Compression < CompressNone || cfg.Compression > CompressZstd {
		return nil, fmt.Errorf("%w: config: unknown compression %d", ErrState, cfg.Compression)
	}
	if cfg.LargeThreshold != 0 && (cfg.LargeThreshold < 50 || cfg.LargeThreshold > 250) {
		return nil, fmt.Errorf("%w: config: large threshold %d outside 50..250", ErrState, cfg.LargeThreshold)
	}
	if _, err := ConnectURL(cfg.URL, cfg.Compression); err != nil {
		return nil, fmt.Errorf("%w: config: %v", ErrState, err)
	}
	if cfg.Properties == (Properties{}) {
		cfg.Properties = Properties{OS: runtime.GOOS, Browser: "ipcord", Device: "ipcord"}
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Conn{cfg: cfg, log: log, names: make(map[string]string)}, nil
}

// Dial says where and how to open a connection.
type Dial struct {
	// URL is the WebSocket URL to dial (host and port for the TCP or TLS
	// connection come from it).
	URL string
	// Request is the HTTP upgrade request to write once connected.
	Request []byte
	// Resume reports whether this connection will RESUME (true) or
	// IDENTIFY, which needs an identify slot from the driver.
	Resume bool
}

// Connect starts a new connection, keeping the session: a fresh WebSocket
// decoder, a fresh inflater, fresh heartbeat state. It returns the URL to
// dial and the upgrade request to write there; the server's reply goes to
// Receive like every later byte.
func (c *Conn) Connect() (Dial, error) {
	base := c.cfg.URL
	c.resuming = c.sessionID != ""
	if c.resuming && c.resumeURL != "" && !c.cfg.IgnoreResumeURL {
		base = c.resumeURL
	}
	raw, err := ConnectURL(base, c.cfg.Compression)
	if err != nil {
		// Only a bad resume URL can fail here; New checked cfg.URL.
		c.resumeURL = ""
		raw, err = ConnectURL(c.cfg.URL, c.cfg.Compression)
		if err != nil {
			return Dial{}, err
		}
	}
	u, err := url.Parse(raw)
	if err != nil {
		return Dial{}, err
	}
	c.state = stateHandshake
	c.req = wsproto.Request{URL: u, Key: wsproto.NewKey()}
	c.handshake = c.handshake[:0]
	c.ws = wsproto.Decoder{Role: wsproto.Client, MaxMessage: c.cfg.maxMessage()}
	c.out = c.out[:0]
	c.closeSent = false
	c.err = nil
	c.hello = false
	c.identSent = false
	c.resumeSent = false
	c.interval = 0
	c.nextBeat = time.Time{}
	c.beatSent = false
	c.readSince = false
	switch c.cfg.Compression {
	case CompressZlib:
		if c.zlib == nil {
			c.zlib = newZlibInflater(c.cfg.maxMessage())
		}
		c.zlib.reset()
	case CompressZstd:
		if c.zstd == nil {
			c.zstd = newZstdInflater(c.cfg.maxMessage(), c.zstdWindow(), c.cfg.ZstdFastDecoder)
		}
		if err := c.zstd.reset(); err != nil {
			return Dial{}, err
		}
	}
	c.log.Debug("gateway: connect", "url", raw, "resume", c.resuming)
	return Dial{URL: raw, Request: c.req.Append(nil), Resume: c.resuming}, nil
}

func (c *Conn) zstdWindow() int {
	if c.cfg.ZstdMaxWindow > 0 {
		return c.cfg.ZstdMaxWindow
	}
	return DefaultZstdMaxWindow
}

// DialFailed tells the Conn that dialing at the last Connect's URL failed
// (Next does the same itself when the upgrade is refused). A resume URL
// that fails is forgotten, so the next Connect resumes on Config.URL; the
// session is kept.
func (c *Conn) DialFailed() {
	if c.resuming && c.resumeURL != "" && !c.cfg.IgnoreResumeURL {
		c.log.Debug("gateway: resume URL failed, falling back", "url", c.resumeURL)
		c.resumeURL = ""
	}
	c.state = stateClosed
	c.err = ErrClosed
}

// Receive takes bytes read from the connection, in any split. Call Next
// until it returns nil to collect what they complete.
func (c *Conn) Receive(p []byte) {
	if len(p) == 0 {
		return
	}
	c.readSince = true
	switch c.state {
	case stateHandshake:
		c.handshake = append(c.handshake, p...)
	case stateOpen:
		c.ws.Feed(p)
	}
}

// Output returns the bytes to write to the connection now (replies to
// pings and heartbeat requests, IDENTIFY or RESUME, heartbeats, payloads
// sent, close frames) and forgets them. The slice is valid until the next
// call on c.
func (c *Conn) Output() []byte {
	b := c.out
	c.out = c.out[:0]
	return b
}

// Next returns the next event completed by the bytes received so far, or
// nil when more bytes are needed. An error means the connection is
// unusable: write Output (it may hold a close frame), drop the connection
// and call Connect. Errors match ErrDecompress, ErrDecode, ErrMessageTooBig,
// ErrProtocol (a *ProtocolError), ErrHandshake (a *HandshakeError) or
// ErrClosed.
func (c *Conn) Next() (Event, error) {
	if c.err != nil {
		return nil, c.err
	}
	switch c.state {
	case stateIdle:
		return nil, fmt.Errorf("%w: call Connect first", ErrState)
	case stateClosed:
		return nil, ErrClosed
	case stateHandshake:
		_, n, ok, err := wsproto.ParseResponse(c.handshake, &c.req)
		if err != nil {
			c.DialFailed() // upgrading failed: the same rule as dialing
			return nil, c.fail(handshakeError(err))
		}
		if !ok {
			return nil, nil
		}
		c.state = stateOpen
		c.ws.Feed(c.handshake[n:])
		c.handshake = c.handshake[:0]
	}
	for {
		m, ok, err := c.ws.Next()
		if err != nil {
			return nil, c.violation(protocolError(err))
		}
		if !ok {
			return nil, nil
		}
		switch m.Op {
		case wsproto.OpPing:
			if !c.closeSent {
				c.out = wsproto.AppendFrame(c.out, wsproto.Client, wsproto.OpPong, true, false, wsproto.MaskKey(), m.Payload)
			}
		case wsproto.OpPong:
		case wsproto.OpClose:
			return c.closed(CloseCode(m.CloseCode), m.CloseReason), nil
		case wsproto.OpText, wsproto.OpBinary:
			ev, err := c.message(m.Payload)
			if err != nil {
				return nil, c.fail(err)
			}
			if ev != nil {
				return ev, nil
			}
		}
	}
}

// closed handles the server's close frame.
func (c *Conn) closed(code CloseCode, reason string) *Closed {
	// Echo the server's code, except where the echo would be 1000 or 1001
	// (1005, 1006 and 1015 cannot be sent and become 1000): a client close
	// with those ends the session on Discord's side, and after a server's
	// close we resume. 4000 keeps it.
	echo := code
	switch code {
	case 1000, 1001, 1005, 1006, 1015:
		echo = 4000
	}
	c.sendClose(echo, "")
	c.state = stateClosed
	c.err = ErrClosed
	action := ActionFor(code)
	if action == ActionIdentify {
		c.dropSession()
	}
	if action == ActionResume && c.sessionID == "" {
		action = ActionIdentify
	}
	c.log.Debug("gateway: closed by server", "code", int(code), "reason", reason, "action", action.String())
	return &Closed{Code: code, Reason: reason, Action: action}
}

// violation ends the connection with the error's close code.
func (c *Conn) violation(e *ProtocolError) error {
	c.sendClose(e.Code, "")
	return c.fail(e)
}

// protocolError turns the WebSocket decoder's error (always a
// *wsproto.ProtocolError) into this package's type, so callers outside
// the module can match it.
func protocolError(err error) *ProtocolError {
	var pe *wsproto.ProtocolError
	if errors.As(err, &pe) {
		return &ProtocolError{Code: CloseCode(pe.Code), Reason: pe.Reason}
	}
	return &ProtocolError{Code: 1002, Reason: err.Error()}
}

// handshakeError turns wsproto's handshake failure into a *HandshakeError.
func handshakeError(err error) *HandshakeError {
	var he *wsproto.HandshakeError
	if errors.As(err, &he) {
		return &HandshakeError{Status: he.Status, Reason: he.Reason, Body: he.Body}
	}
	return &HandshakeError{Reason: strings.TrimPrefix(err.Error(), "wsproto: handshake failed: ")}
}

func (c *Conn) fail(err error) error {
	if errors.Is(err, ErrDecompress) {
		c.decompressFailures++
	}
	c.state = stateClosed
	c.err = err
	c.log.Debug("gateway: connection failed", "err", err)
	return err
}

// Close queues a close frame and ends the connection; write Output, then
// drop the connection. Close codes 1000 and 1001 end the session on
// Discord's side, so Close forgets it; any other code (4000 is usual)
// keeps it for a RESUME.
func (c *Conn) Close(code CloseCode, reason string) {
	if c.state == stateOpen {
		c.sendClose(code, reason)
	}
	if code == 1000 || code == 1001 {
		c.dropSession()
	}
	c.state = stateClosed
	c.err = ErrClosed
}

func (c *Conn) sendClose(code CloseCode, reason string) {
	if c.closeSent || c.state != stateOpen {
		return
	}
	c.closeSent = true
	if code == 1005 || code == 1006 || code == 1015 || code < 1000 || code > 4999 {
		code = 1000
	}
	c.out = wsproto.AppendClose(c.out, wsproto.Client, wsproto.MaskKey(), wsproto.CloseCode(code), reason)
}

func (c *Conn) dropSession() {
	c.sessionID, c.resumeURL, c.seq, c.hasSeq = "", "", 0, false
}

// Session returns what a RESUME needs, for storing across a restart.
func (c *Conn) Session() Session {
	return Session{ID: c.sessionID, Seq: c.seq, ResumeURL: c.resumeURL}
}

// Restore sets the session to resume at the next Connect, typically one
// saved by a previous process. An invalid (empty) session clears it.
func (c *Conn) Restore(s Session) {
	c.sessionID, c.seq, c.hasSeq, c.resumeURL = s.ID, s.Seq, s.ID != "" && s.Seq > 0, s.ResumeURL
}

// Compact lets go of the memory the connection needs only while messages
// arrive: the WebSocket receive buffer, the inflater's output and
// scratch space, and (for zlib-stream) the inflater itself, keeping only
// what the compressed stream needs across messages (the zlib window, the
// zstd decoder). A driver calls it once the connection has been quiet for
// a while, so that a thousand idle shards do not hold a thousand sets of
// buffers; the next bytes received take what they need again, mostly from
// pools every Conn of the process shares. Events returned by Next so far
// become invalid.
func (c *Conn) Compact() {
	c.ws.Release()
	if c.state != stateHandshake {
		c.handshake = nil
	}
	if len(c.out) == 0 {
		c.out = nil
	}
	c.scratch = nil
	// The last event points into the buffers let go of: drop it, or it
	// would keep them alive.
	c.dispatch, c.env = Dispatch{}, envelope{}
	if c.zlib != nil {
		c.zlib.compact()
	}
	if c.zstd != nil {
		c.zstd.compact()
	}
}

// DecompressFailures is the number of consecutive connections that ended
// in ErrDecompress; a READY or RESUMED (a connection that got going)
// resets it. A runner
// stops reconnecting after a few (three is usual): a proxy or middlebox is
// mangling the stream.
func (c *Conn) DecompressFailures() int { return c.decompressFailures }
