package discordtest

import (
	"errors"
	"io"
	"net"
	"sync"
	"time"

	"github.com/ipcord/ipcord/internal/wsproto"
)

// wsMaxMessage bounds a reassembled client message. Anything past 4096
// bytes is already a 4002 for Discord; the larger bound only keeps a
// misbehaving client from making the fake buffer without limit.
const wsMaxMessage = 1 << 16

// appendFrame appends one final, unmasked server frame.
func appendFrame(dst []byte, op wsproto.Opcode, payload []byte) []byte {
	return wsproto.AppendFrame(dst, wsproto.Server, op, true, false, [4]byte{}, payload)
}

// closeLinger is how long the fake waits for the client's half of the
// closing handshake before dropping the TCP connection. Closing at once
// could reset the connection and lose the close frame on the client side.
const closeLinger = 2 * time.Second

type outKind uint8

const (
	outPayload  outKind = iota // a gateway payload, compressed as negotiated
	outDispatch                // an Event with its sequence number, likewise
	outClose                   // a close frame, then the end of the connection
	outCut                     // half a frame, then an abrupt TCP close
	outCorrupt                 // bytes that break the compressed stream
	outPong                    // a WebSocket pong
	outDrop                    // what is queued, then an abrupt TCP close
)

type outItem struct {
	kind   outKind
	data   []byte
	ev     *Event
	seq    int64
	code   int
	reason string
}

// gwConn is one client connection: a reader goroutine (the HTTP handler's)
// that feeds the session logic, and a writer goroutine that owns the
// compressor and every byte written.
type gwConn struct {
	g        *Gateway
	nc       net.Conn
	num      int
	listener Listener
	version  int
	comp     string

	// Guarded by g.mu.
	sess    *gwSession
	shard   int // -1 until IDENTIFY or RESUME succeeds
	authed  bool
	closing bool // a close or cut is queued: later input is ignored
	noACK   bool
	window  rateWindow

	qmu     sync.Mutex
	queue   []outItem
	queued  int // bytes of the dispatches queued, for Flood's window
	held    int
	wake    chan struct{}
	drained chan struct{} // signaled after each write, for Flood
	done    chan struct{}
	endOnce sync.Once
	linger  *time.Timer
	timers  []*time.Timer
}

func newConn(g *Gateway, nc net.Conn, num int, l Listener, version int, comp string) *gwConn {
	return &gwConn{
		g: g, nc: nc, num: num, listener: l, version: version, comp: comp,
		shard:   -1,
		wake:    make(chan struct{}, 1),
		drained: make(chan struct{}, 1),
		done:    make(chan struct{}),
	}
}

// send queues an item for the writer. Items after a close or cut are dropped.
func (c *gwConn) send(it outItem) {
	c.qmu.Lock()
	c.queue = append(c.queue, it)
	if it.kind == outDispatch {
		c.queued += len(it.ev.data)
	}
	c.qmu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// hold stops the writer until the returned release is called (once).
func (c *gwConn) hold() (release func()) {
	c.qmu.Lock()
	c.held++
	c.qmu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			c.qmu.Lock()
			c.held--
			c.qmu.Unlock()
			select {
			case c.wake <- struct{}{}:
			default:
			}
		})
	}
}

// end drops the connection and detaches it from its session. Safe to call
// more than once and from any goroutine.
func (c *gwConn) end() {
	c.endOnce.Do(func() {
		close(c.done)
		c.nc.Close()
		g := c.g
		g.mu.Lock()
		if c.sess != nil && c.sess.conn == c {
			c.sess.conn, c.sess.detached = nil, g.now()
		}
		delete(g.conns, c)
		g.notifyLocked()
		g.mu.Unlock()
		c.qmu.Lock()
		if c.linger != nil {
			c.linger.Stop()
		}
		for _, t := range c.timers {
			t.Stop()
		}
		c.qmu.Unlock()
	})
}

// readLoop decodes the client's frames; early is what the client sent
// with its upgrade request.
func (c *gwConn) readLoop(early []byte) {
	defer c.g.wg.Done()
	defer c.end()
	c.g.hello(c)
	dec := wsproto.Decoder{Role: wsproto.Server, MaxMessage: wsMaxMessage, ValidateUTF8: true}
	dec.Feed(early)
	var rerr error
	for {
		m, ok, err := dec.Next()
		if err != nil {
			// The stream cannot be parsed further: say why, then drain
			// until the client or the linger timer ends the connection.
			var pe *wsproto.ProtocolError
			switch {
			case errors.Is(err, wsproto.ErrMessageTooBig):
				c.g.closeConn(c, closeDecodeError, "payload too large")
			case errors.As(err, &pe):
				c.g.closeConn(c, int(pe.Code), pe.Reason)
			}
			io.Copy(io.Discard, c.nc)
			return
		}
		if !ok {
			if rerr != nil {
				return
			}
			_, rerr = dec.ReadFrom(c.nc)
			continue
		}
		// m.Payload is only valid until the next Next: keep a copy.
		p := append([]byte(nil), m.Payload...)
		switch m.Op {
		case wsproto.OpPing:
			c.send(outItem{kind: outPong, data: p})
		case wsproto.OpPong:
		case wsproto.OpClose:
			c.g.clientClosed(c, int(m.CloseCode), m.CloseReason)
		default:
			c.g.handle(c, p)
		}
	}
}

func (c *gwConn) writeLoop() {
	defer c.g.wg.Done()
	comp := newCompressor(c.comp)
	if comp != nil {
		defer comp.close()
	}
	var out frames
	var batch []outItem
	for {
		c.qmu.Lock()
		for len(c.queue) == 0 || c.held > 0 {
			c.qmu.Unlock()
			select {
			case <-c.wake:
			case <-c.done:
				return
			}
			c.qmu.Lock()
		}
		batch = append(batch[:0], c.queue...)
		clear(c.queue)
		c.queue = c.queue[:0]
		sent := c.queued
		c.queued = 0
		c.qmu.Unlock()

		// The whole batch goes out in one writev: frames and small parts
		// copied into out's buffer, large event data referenced.
		out.reset()
		for _, it := range batch {
			switch it.kind {
			case outPayload:
				if comp == nil {
					out.buf = appendFrame(out.buf, wsproto.OpText, it.data)
					continue
				}
				out.buf = appendFrame(out.buf, wsproto.OpBinary, out.compress(comp, it.data))
			case outDispatch:
				out.dispatch(comp, it.ev, it.seq)
			case outPong:
				out.buf = appendFrame(out.buf, wsproto.OpPong, it.data)
			case outCorrupt:
				out.buf = appendFrame(out.buf, wsproto.OpBinary, it.data)
			case outCut:
				data := it.data
				if comp != nil {
					data = comp.message(nil, data)
				}
				frame := appendFrame(nil, wsproto.OpBinary, data)
				out.buf = append(out.buf, frame[:len(frame)/2]...)
				out.writeTo(c.nc)
				c.end()
				return
			case outDrop:
				out.writeTo(c.nc)
				c.end()
				return
			case outClose:
				out.buf = wsproto.AppendClose(out.buf, wsproto.Server, [4]byte{}, wsproto.CloseCode(it.code), it.reason)
				out.writeTo(c.nc)
				c.lingerClose()
				return
			}
		}
		clear(batch) // the batch's events are the sessions' to keep, not ours
		if err := out.writeTo(c.nc); err != nil {
			c.end()
			return
		}
		if sent > 0 {
			select {
			case c.drained <- struct{}{}:
			default:
			}
		}
	}
}

// pending is the bytes of dispatch data queued and not yet written.
func (c *gwConn) pending() int {
	c.qmu.Lock()
	defer c.qmu.Unlock()
	return c.queued
}

// lingerClose half-closes the TCP connection after a close frame, so the
// client reads the frame, and ends it once the client is gone or after
// closeLinger.
func (c *gwConn) lingerClose() {
	if tc, ok := c.nc.(*net.TCPConn); ok {
		tc.CloseWrite()
	}
	c.qmu.Lock()
	select {
	case <-c.done:
	default:
		c.linger = time.AfterFunc(closeLinger, c.end)
	}
	c.qmu.Unlock()
}
