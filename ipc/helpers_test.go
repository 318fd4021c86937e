package ipc_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ipcord/ipcord/internal/wsproto"
	"github.com/ipcord/ipcord/ipc"
)

const secret = "s3cret"

// startServer serves srv on 127.0.0.1:0 and shuts it down when t ends.
func startServer(t *testing.T, srv *ipc.Server) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return serveOn(t, srv, ln)
}

func serveOn(t *testing.T, srv *ipc.Server, ln net.Listener) string {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		if err := <-done; !errors.Is(err, ipc.ErrClosed) {
			t.Errorf("Serve returned %v, want ErrClosed", err)
		}
	})
	return "ws://" + ln.Addr().String()
}

func dial(t *testing.T, cfg ipc.ClientConfig) *ipc.Client {
	t.Helper()
	if cfg.Secret == "" {
		cfg.Secret = secret
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := ipc.Dial(ctx, cfg)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func ctxTimeout(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// watchListener counts what its connections carry and cost: the bytes
// written to them (was a reply compressed?) and read from them, and the
// connections the server still holds open (what a peer without the
// secret costs it).
type watchListener struct {
	net.Listener
	written, read atomic.Int64
	live          atomic.Int64
}

func (l *watchListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	l.live.Add(1)
	return &watchConn{Conn: c, l: l}, nil
}

type watchConn struct {
	net.Conn
	l    *watchListener
	once sync.Once
}

// Write counts p before writing it: the peer may read it all, and the
// test look at the count, before Write returns.
func (c *watchConn) Write(p []byte) (int, error) {
	c.l.written.Add(int64(len(p)))
	n, err := c.Conn.Write(p)
	c.l.written.Add(int64(n - len(p)))
	return n, err
}

func (c *watchConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.l.read.Add(int64(n))
	return n, err
}

func (c *watchConn) Close() error {
	c.once.Do(func() { c.l.live.Add(-1) })
	return c.Conn.Close()
}

// rawClient speaks ipcord.v1 by hand, so tests can send what a well-behaved
// Client never would.
type rawClient struct {
	t   *testing.T
	nc  net.Conn
	dec wsproto.Decoder
}

func rawDial(t *testing.T, wsURL string, header http.Header) (*rawClient, *wsproto.Response, error) {
	t.Helper()
	u, _ := url.Parse(wsURL)
	nc, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	if header == nil {
		header = http.Header{"Authorization": {"Bearer " + secret}}
	}
	req := &wsproto.Request{URL: u, Key: wsproto.NewKey(), Subprotocols: []string{ipc.Subprotocol}, Header: header}
	nc.Write(req.Append(nil))
	nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	br := bufio.NewReader(nc)
	var buf []byte
	for {
		b, err := br.ReadByte()
		if err != nil {
			return nil, nil, err
		}
		buf = append(buf, b)
		resp, n, ok, err := wsproto.ParseResponse(buf, req)
		if err != nil {
			return nil, resp, err
		}
		if ok {
			rc := &rawClient{t: t, nc: nc, dec: wsproto.Decoder{Role: wsproto.Client, MaxMessage: 8 << 20}}
			rc.dec.Feed(buf[n:])
			if n := br.Buffered(); n > 0 {
				p, _ := br.Peek(n)
				rc.dec.Feed(p)
			}
			return rc, resp, nil
		}
	}
}

// helloed dials and completes the hello exchange as identifier.
func helloed(t *testing.T, wsURL, identifier string) *rawClient {
	t.Helper()
	rc, _, err := rawDial(t, wsURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	rc.send(`{"t":"hello","v":1,"id":"` + identifier + `","routes":[]}`)
	if m := rc.recvJSON(); m["t"] != "hello" {
		t.Fatalf("server's first frame: %v", m)
	}
	return rc
}

func (rc *rawClient) sendFrame(op wsproto.Opcode, payload []byte) {
	rc.nc.Write(wsproto.AppendFrame(nil, wsproto.Client, op, true, false, wsproto.MaskKey(), payload))
}

func (rc *rawClient) send(s string) { rc.sendFrame(wsproto.OpText, []byte(s)) }

// recv returns the next data or close message, skipping pings.
func (rc *rawClient) recv() (wsproto.Message, error) {
	rc.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		m, ok, err := rc.dec.Next()
		if err != nil {
			return m, err
		}
		if !ok {
			if _, err := rc.dec.ReadFrom(rc.nc); err != nil {
				return m, err
			}
			continue
		}
		if m.Op == wsproto.OpPing || m.Op == wsproto.OpPong {
			continue
		}
		m.Payload = append([]byte(nil), m.Payload...)
		return m, nil
	}
}

func (rc *rawClient) recvJSON() map[string]any {
	rc.t.Helper()
	m, err := rc.recv()
	if err != nil {
		rc.t.Fatalf("recv: %v", err)
	}
	if m.Op != wsproto.OpText {
		rc.t.Fatalf("got %v message (close %d %q), want text", m.Op, m.CloseCode, m.CloseReason)
	}
	var v map[string]any
	if err := json.Unmarshal(m.Payload, &v); err != nil {
		rc.t.Fatalf("bad JSON %q: %v", m.Payload, err)
	}
	return v
}

// expectClose reads until a close frame and checks its code.
func (rc *rawClient) expectClose(code int) string {
	rc.t.Helper()
	for {
		m, err := rc.recv()
		if err != nil {
			rc.t.Fatalf("waiting for close %d: %v", code, err)
		}
		if m.Op == wsproto.OpClose {
			if int(m.CloseCode) != code {
				rc.t.Fatalf("close code %d (%q), want %d", m.CloseCode, m.CloseReason, code)
			}
			return m.CloseReason
		}
	}
}
