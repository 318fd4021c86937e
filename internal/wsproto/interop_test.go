package wsproto_test

// Interoperability with a real, independent implementation: coder/websocket
// as the peer in both directions, over TCP on 127.0.0.1.

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/ipcord/ipcord/internal/leaktest"
	"github.com/ipcord/ipcord/internal/wsproto"
)

const ioTimeout = 5 * time.Second

// peer is our end of a connection, in either role: a Decoder plus a
// connection, with a deadline on every step.
type peer struct {
	role wsproto.Role
	conn net.Conn
	dec  wsproto.Decoder
	raw  bytes.Buffer // every byte received, to check what was on the wire
}

func (p *peer) send(frames []byte) error {
	p.conn.SetWriteDeadline(time.Now().Add(ioTimeout))
	_, err := p.conn.Write(frames)
	return err
}

func (p *peer) frame(op wsproto.Opcode, fin bool, payload []byte) []byte {
	return wsproto.AppendFrame(nil, p.role, op, fin, false, wsproto.MaskKey(), payload)
}

// next returns the next message, with its payload copied.
func (p *peer) next() (wsproto.Message, error) {
	p.conn.SetReadDeadline(time.Now().Add(ioTimeout))
	m, err := readMessage(&p.dec, io.TeeReader(p.conn, &p.raw))
	m.Payload = bytes.Clone(m.Payload)
	return m, err
}

// dialTCP opens a TCP connection to the host of a ws:// URL, closed when
// the test ends.
func dialTCP(t testing.TB, rawURL string) (net.Conn, *url.URL) {
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.DialTimeout("tcp", u.Host, ioTimeout)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn, u
}

// readResponse reads the server's handshake reply to req and returns it
// with the bytes that followed it (the start of the frame stream).
func readResponse(conn net.Conn, req *wsproto.Request) (*wsproto.Response, []byte, error) {
	conn.SetReadDeadline(time.Now().Add(ioTimeout))
	var in []byte
	buf := make([]byte, 1024)
	for {
		n, rerr := conn.Read(buf)
		in = append(in, buf[:n]...)
		resp, used, ok, err := wsproto.ParseResponse(in, req)
		if err != nil {
			return resp, nil, err
		}
		if ok {
			return resp, in[used:], nil
		}
		if rerr != nil {
			return nil, nil, rerr
		}
	}
}

// dialOurs connects our Client role to a ws:// URL.
func dialOurs(t testing.TB, rawURL string, subprotocols []string, maxMessage int) (*peer, *wsproto.Response, error) {
	conn, u := dialTCP(t, rawURL)
	p := &peer{role: wsproto.Client, conn: conn, dec: wsproto.Decoder{Role: wsproto.Client, MaxMessage: maxMessage, ValidateUTF8: true}}
	req := &wsproto.Request{URL: u, Key: wsproto.NewKey(), Subprotocols: subprotocols,
		Header: http.Header{"User-Agent": {"ipcord-wsproto-test"}}}
	if err := p.send(req.Append(nil)); err != nil {
		return nil, nil, err
	}
	resp, rest, err := readResponse(conn, req)
	if err != nil {
		return nil, resp, err
	}
	p.dec.Feed(rest)
	return p, resp, nil
}

// coderEchoServer serves coder/websocket's Accept: it echoes every message,
// answers "send:<n>" with n bytes, and reports how each connection ended.
func coderEchoServer(t *testing.T) (wsURL string, ended <-chan error) {
	endc := make(chan error, 8)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, &websocket.AcceptOptions{Subprotocols: []string{"ipcord.v1"}})
		if err != nil {
			endc <- err
			return
		}
		defer c.CloseNow()
		ctx, cancel := context.WithTimeout(r.Context(), ioTimeout)
		defer cancel()
		for {
			typ, data, err := c.Read(ctx)
			if err != nil {
				endc <- err
				return
			}
			if n, ok := strings.CutPrefix(string(data), "send:"); ok {
				size := 0
				for _, d := range n {
					size = size*10 + int(d-'0')
				}
				data = bytes.Repeat([]byte("s"), size)
			}
			if err := c.Write(ctx, typ, data); err != nil {
				endc <- err
				return
			}
		}
	}))
	t.Cleanup(srv.Close)
	return "ws" + strings.TrimPrefix(srv.URL, "http"), endc
}

func TestInteropOurClientCoderServer(t *testing.T) {
	leaktest.Check(t)
	wsURL, ended := coderEchoServer(t)

	p, resp, err := dialOurs(t, wsURL, []string{"chat", "ipcord.v1"}, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Subprotocol != "ipcord.v1" {
		t.Fatalf("negotiated subprotocol %q, want ipcord.v1", resp.Subprotocol)
	}
	expect := func(op wsproto.Opcode, payload string) {
		t.Helper()
		m, err := p.next()
		if err != nil {
			t.Fatal(err)
		}
		if m.Op != op || string(m.Payload) != payload {
			t.Fatalf("got %s %q, want %s %q", m.Op, m.Payload, op, payload)
		}
	}

	// Text and binary, batched into one write.
	if err := p.send(cat(p.frame(wsproto.OpText, true, []byte("héllo")), p.frame(wsproto.OpBinary, true, []byte{0, 1, 2, 255}))); err != nil {
		t.Fatal(err)
	}
	expect(wsproto.OpText, "héllo")
	expect(wsproto.OpBinary, "\x00\x01\x02\xff")

	// Fragmented, with a ping between fragments: the pong comes first.
	if err := p.send(cat(
		p.frame(wsproto.OpText, false, []byte("frag")),
		p.frame(wsproto.OpPing, true, []byte("p1")),
		p.frame(wsproto.OpContinuation, false, []byte("men")),
		p.frame(wsproto.OpContinuation, true, []byte("ted")),
	)); err != nil {
		t.Fatal(err)
	}
	expect(wsproto.OpPong, "p1")
	expect(wsproto.OpText, "fragmented")

	// Exactly at our 1000-byte limit, then one over it.
	if err := p.send(p.frame(wsproto.OpText, true, []byte("send:1000"))); err != nil {
		t.Fatal(err)
	}
	expect(wsproto.OpText, strings.Repeat("s", 1000))
	if err := p.send(p.frame(wsproto.OpText, true, []byte("send:1001"))); err != nil {
		t.Fatal(err)
	}
	_, err = p.next()
	var pe *wsproto.ProtocolError
	if !errors.Is(err, wsproto.ErrMessageTooBig) || !errors.As(err, &pe) || pe.Code != wsproto.CloseMessageTooBig {
		t.Fatalf("over the limit: %v, want ErrMessageTooBig with code 1009", err)
	}
	// Close as the protocol error says; coder must see our code and reason.
	if err := p.send(wsproto.AppendClose(nil, wsproto.Client, wsproto.MaskKey(), pe.Code, "too big")); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-ended:
		var ce websocket.CloseError
		if !errors.As(err, &ce) || ce.Code != 1009 || ce.Reason != "too big" {
			t.Fatalf("coder ended with %v, want close 1009 \"too big\"", err)
		}
	case <-time.After(ioTimeout):
		t.Fatal("coder server never saw the close")
	}
}

func TestInteropOurClientCloseHandshake(t *testing.T) {
	leaktest.Check(t)
	wsURL, ended := coderEchoServer(t)
	p, _, err := dialOurs(t, wsURL, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.send(wsproto.AppendClose(nil, wsproto.Client, wsproto.MaskKey(), 4001, "resume later")); err != nil {
		t.Fatal(err)
	}
	m, err := p.next()
	if err != nil || m.Op != wsproto.OpClose || m.CloseCode != 4001 || m.CloseReason != "resume later" {
		t.Fatalf("got %+v %v, want the close echoed", m, err)
	}
	if err := <-ended; websocket.CloseStatus(err) != 4001 {
		t.Fatalf("coder ended with %v, want close 4001", err)
	}
	// After the close handshake the server drops TCP.
	if _, err := p.next(); !errors.Is(err, io.EOF) {
		t.Fatalf("after close: %v, want EOF", err)
	}
}

// ourEchoServer serves our Server role behind net/http: it echoes data
// messages, answers pings, echoes a close, closes with the code of a
// protocol error, and reports every message and the early bytes it saw.
type ourEchoServer struct {
	url   string
	early chan int         // bytes received with the upgrade request
	seen  chan seenMessage // every message decoded
	raw   chan []byte      // all raw bytes received, when a connection ends
	wg    sync.WaitGroup
}

type seenMessage struct {
	m   msg
	err error
}

func newOurEchoServer(t *testing.T, maxMessage int) *ourEchoServer {
	s := &ourEchoServer{early: make(chan int, 8), seen: make(chan seenMessage, 64), raw: make(chan []byte, 8)}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key, err := wsproto.CheckRequest(r)
		if err != nil {
			wsproto.Refuse(w, err)
			return
		}
		sub := ""
		for _, o := range wsproto.Subprotocols(r) {
			if o == "ipcord.v1" {
				sub = o
				break
			}
		}
		conn, early, err := wsproto.Hijack(w)
		if err != nil {
			t.Error(err)
			return
		}
		s.wg.Add(1)
		defer s.wg.Done()
		defer conn.Close()
		s.early <- len(early)
		p := &peer{role: wsproto.Server, conn: conn, dec: wsproto.Decoder{Role: wsproto.Server, MaxMessage: maxMessage, ValidateUTF8: true}}
		p.dec.Feed(early)
		p.raw.Write(early)
		defer func() { s.raw <- p.raw.Bytes() }()
		if err := p.send(wsproto.AppendResponse(nil, key, sub, "", http.Header{"X-Served-By": {"wsproto"}})); err != nil {
			return
		}
		for {
			m, err := p.next()
			s.seen <- seenMessage{copyMsg(m), err}
			var pe *wsproto.ProtocolError
			switch {
			case errors.As(err, &pe):
				p.send(wsproto.AppendClose(nil, wsproto.Server, [4]byte{}, pe.Code, pe.Reason))
				return
			case err != nil:
				return
			case m.Op == wsproto.OpClose:
				code := m.CloseCode
				if code == wsproto.CloseNoStatus {
					code = 0
				}
				p.send(wsproto.AppendClose(nil, wsproto.Server, [4]byte{}, code, m.CloseReason))
				return
			case m.Op == wsproto.OpPing:
				p.send(p.frame(wsproto.OpPong, true, m.Payload))
			case m.Op == wsproto.OpText || m.Op == wsproto.OpBinary:
				p.send(p.frame(m.Op, true, m.Payload))
			}
		}
	}))
	t.Cleanup(func() {
		srv.Close()
		s.wg.Wait() // hijacked connections are not tracked by httptest
	})
	s.url = "ws" + strings.TrimPrefix(srv.URL, "http")
	return s
}

func (s *ourEchoServer) expectSeen(t *testing.T, want msg) {
	t.Helper()
	select {
	case got := <-s.seen:
		if got.err != nil || got.m != want {
			t.Fatalf("server saw %+v (err %v), want %+v", got.m, got.err, want)
		}
	case <-time.After(ioTimeout):
		t.Fatal("server saw nothing")
	}
}

func TestInteropCoderClientOurServer(t *testing.T) {
	leaktest.Check(t)
	s := newOurEchoServer(t, 1000)
	ctx, cancel := context.WithTimeout(context.Background(), ioTimeout)
	defer cancel()

	c, resp, err := websocket.Dial(ctx, s.url, &websocket.DialOptions{Subprotocols: []string{"other", "ipcord.v1"}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	if c.Subprotocol() != "ipcord.v1" || resp.Header.Get("X-Served-By") != "wsproto" {
		t.Fatalf("subprotocol %q, X-Served-By %q", c.Subprotocol(), resp.Header.Get("X-Served-By"))
	}
	echo := func(typ websocket.MessageType, data []byte) {
		t.Helper()
		gotTyp, got, err := c.Read(ctx)
		if err != nil || gotTyp != typ || !bytes.Equal(got, data) {
			t.Fatalf("read %v %q %v, want %v %q", gotTyp, got, err, typ, data)
		}
	}

	if err := c.Write(ctx, websocket.MessageText, []byte("héllo")); err != nil {
		t.Fatal(err)
	}
	echo(websocket.MessageText, []byte("héllo"))
	s.expectSeen(t, msg{Op: wsproto.OpText, Payload: "héllo"})

	if err := c.Write(ctx, websocket.MessageBinary, []byte{0, 0xff}); err != nil {
		t.Fatal(err)
	}
	echo(websocket.MessageBinary, []byte{0, 0xff})
	s.expectSeen(t, msg{Op: wsproto.OpBinary, Payload: "\x00\xff"})

	// coder's Writer sends one frame per Write call.
	w, err := c.Writer(ctx, websocket.MessageBinary)
	if err != nil {
		t.Fatal(err)
	}
	for _, part := range []string{"frag", "men", "ted"} {
		if _, err := w.Write([]byte(part)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	echo(websocket.MessageBinary, []byte("fragmented"))
	s.expectSeen(t, msg{Op: wsproto.OpBinary, Payload: "fragmented"})

	// Ping: coder needs a reader running to see the pong.
	readErr := make(chan error, 1)
	readCtx, stopRead := context.WithCancel(ctx)
	go func() {
		_, _, err := c.Read(readCtx)
		readErr <- err
	}()
	if err := c.Ping(ctx); err != nil {
		t.Fatalf("ping: %v", err)
	}
	if got := <-s.seen; got.err != nil || got.m.Op != wsproto.OpPing {
		t.Fatalf("server saw %+v %v, want a ping", got.m, got.err)
	}
	// Exactly at the server's 1000-byte limit: echoed.
	at := bytes.Repeat([]byte("L"), 1000)
	if err := c.Write(ctx, websocket.MessageBinary, at); err != nil {
		t.Fatal(err)
	}
	if err := <-readErr; err != nil {
		t.Fatalf("read at the limit: %v", err)
	}
	stopRead()
	s.expectSeen(t, msg{Op: wsproto.OpBinary, Payload: string(at)})

	// One over: the server closes with 1009.
	if err := c.Write(ctx, websocket.MessageBinary, append(at, 'L')); err != nil {
		t.Fatal(err)
	}
	_, _, err = c.Read(ctx)
	if websocket.CloseStatus(err) != websocket.StatusMessageTooBig {
		t.Fatalf("over the limit: %v, want close 1009", err)
	}
	if got := <-s.seen; !errors.Is(got.err, wsproto.ErrMessageTooBig) {
		t.Fatalf("server error %v, want ErrMessageTooBig", got.err)
	}
	// The fragmented message really was fragmented on the wire: the first
	// frame of it has FIN clear.
	raw := <-s.raw
	if !bytes.Contains(raw, []byte{0x02, 0x84}) { // binary, FIN=0, masked, 4 bytes: "frag"
		t.Fatalf("no non-final binary frame of 4 bytes on the wire")
	}
	if n := <-s.early; n != 0 {
		t.Fatalf("coder sent %d bytes with its upgrade request, want 0", n)
	}
}

func TestInteropCoderClientCloseHandshake(t *testing.T) {
	leaktest.Check(t)
	s := newOurEchoServer(t, 0)
	ctx, cancel := context.WithTimeout(context.Background(), ioTimeout)
	defer cancel()
	c, _, err := websocket.Dial(ctx, s.url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	if c.Subprotocol() != "" {
		t.Fatalf("subprotocol %q negotiated without an offer", c.Subprotocol())
	}
	// Close returns nil only when our server echoed the close frame.
	if err := c.Close(4000, "reconnecting"); err != nil {
		t.Fatalf("close handshake: %v", err)
	}
	s.expectSeen(t, msg{Op: wsproto.OpClose, Payload: "\x0f\xa0reconnecting", Code: 4000, Reason: "reconnecting"})
}

// TestHijackEarlyFrames sends the upgrade request and the first frames in
// one write: the frames land in net/http's buffer, and Hijack must hand
// them over or they would be lost.
func TestHijackEarlyFrames(t *testing.T) {
	leaktest.Check(t)
	s := newOurEchoServer(t, 0)
	conn, u := dialTCP(t, s.url)
	p := &peer{role: wsproto.Client, conn: conn, dec: wsproto.Decoder{Role: wsproto.Client}}
	req := &wsproto.Request{URL: u, Key: wsproto.NewKey(), Subprotocols: []string{"ipcord.v1"}}
	first := cat(p.frame(wsproto.OpText, true, []byte("early bird")), p.frame(wsproto.OpPing, true, []byte("early ping")))
	if err := p.send(cat(req.Append(nil), first)); err != nil {
		t.Fatal(err)
	}
	select {
	case n := <-s.early:
		if n != len(first) {
			t.Fatalf("Hijack returned %d early bytes, want %d", n, len(first))
		}
	case <-time.After(ioTimeout):
		t.Fatal("no connection")
	}
	resp, rest, err := readResponse(conn, req)
	if err != nil || resp.Subprotocol != "ipcord.v1" {
		t.Fatalf("handshake: %+v %v", resp, err)
	}
	p.dec.Feed(rest)
	for _, want := range []msg{{Op: wsproto.OpText, Payload: "early bird"}, {Op: wsproto.OpPong, Payload: "early ping"}} {
		m, err := p.next()
		if err != nil || copyMsg(m) != want {
			t.Fatalf("got %+v %v, want %+v", copyMsg(m), err, want)
		}
	}
	p.send(wsproto.AppendClose(nil, wsproto.Client, wsproto.MaskKey(), wsproto.CloseNormal, ""))
	if m, err := p.next(); err != nil || m.Op != wsproto.OpClose || m.CloseCode != wsproto.CloseNormal {
		t.Fatalf("close: %+v %v", m, err)
	}
}

// TestHandshakeRefusedOverHTTP checks that a refusal written by Respond
// reaches our client as a HandshakeError with the server's status and body.
func TestHandshakeRefusedOverHTTP(t *testing.T) {
	leaktest.Check(t)
	s := newOurEchoServer(t, 0)
	conn, u := dialTCP(t, s.url)
	req := &wsproto.Request{URL: u, Key: "not-a-valid-key"}
	conn.SetWriteDeadline(time.Now().Add(ioTimeout))
	if _, err := conn.Write(req.Append(nil)); err != nil {
		t.Fatal(err)
	}
	_, _, err := readResponse(conn, req)
	var he *wsproto.HandshakeError
	if !errors.As(err, &he) || he.Status != 400 || !strings.Contains(string(he.Body), "Sec-WebSocket-Key") {
		t.Fatalf("got %v, want a 400 HandshakeError naming Sec-WebSocket-Key", err)
	}
}
