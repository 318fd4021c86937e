package discordtest

// A raw client built on wsproto's client role, for what a full WebSocket
// library hides: exactly which bytes arrived before the connection ended.

import (
	"compress/zlib"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/url"
	"testing"
	"time"

	"github.com/ipcord/ipcord/internal/leaktest"
	"github.com/ipcord/ipcord/internal/wsproto"
)

type rawClient struct {
	t   testing.TB
	nc  net.Conn
	dec wsproto.Decoder
	eof bool
}

func rawDial(t testing.TB, base, query string) *rawClient {
	t.Helper()
	u, err := url.Parse(base + "/?" + query)
	if err != nil {
		t.Fatal(err)
	}
	nc, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	req := &wsproto.Request{URL: u, Key: wsproto.NewKey()}
	if _, err := nc.Write(req.Append(nil)); err != nil {
		t.Fatal(err)
	}
	var buf []byte
	tmp := make([]byte, 4096)
	for {
		n, err := nc.Read(tmp)
		if err != nil {
			t.Fatal(err)
		}
		buf = append(buf, tmp[:n]...)
		_, used, ok, err := wsproto.ParseResponse(buf, req)
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			c := &rawClient{t: t, nc: nc, dec: wsproto.Decoder{Role: wsproto.Client}}
			c.dec.Feed(buf[used:])
			return c
		}
	}
}

// next returns the next message, or ok=false once the connection ended.
func (c *rawClient) next() (wsproto.Message, bool) {
	for {
		m, ok, err := c.dec.Next()
		if err != nil {
			c.t.Fatal(err)
		}
		if ok {
			m.Payload = append([]byte(nil), m.Payload...)
			return m, true
		}
		if c.eof {
			return m, false
		}
		if _, err := c.dec.ReadFrom(c.nc); err != nil {
			if !errors.Is(err, io.EOF) {
				c.t.Fatal(err)
			}
			c.eof = true
		}
	}
}

func (c *rawClient) send(v any) {
	b, _ := json.Marshal(v)
	if _, err := c.nc.Write(wsproto.AppendFrame(nil, wsproto.Client, wsproto.OpText, true, false, wsproto.MaskKey(), b)); err != nil {
		c.t.Fatal(err)
	}
}

func TestGatewayCutLeavesHalfAFrame(t *testing.T) {
	leaktest.Check(t)
	g := startGateway(t, &Gateway{})
	c := rawDial(t, g.URL(), "v=10")
	if m, ok := c.next(); !ok || m.Op != wsproto.OpText {
		t.Fatalf("HELLO: %+v %v", m, ok)
	}
	c.send(identifyPayload("tok", 0, 1, 0))
	if m, ok := c.next(); !ok || !json.Valid(m.Payload) {
		t.Fatalf("READY: %+v %v", m, ok)
	}
	if err := g.CutMidFrame(0); err != nil {
		t.Fatal(err)
	}
	if m, ok := c.next(); ok {
		t.Fatalf("got a whole message after the cut: %+v", m)
	}
	if c.dec.Buffered() == 0 {
		t.Fatal("the connection ended on a frame boundary, not mid-frame")
	}
}

func TestGatewayRequestHeartbeat(t *testing.T) {
	leaktest.Check(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	g := startGateway(t, &Gateway{})
	c := rawDial(t, g.URL(), "v=10&encoding=json")
	c.next()
	c.send(identifyPayload("tok", 0, 1, 0))
	c.next()
	if err := g.RequestHeartbeat(0); err != nil {
		t.Fatal(err)
	}
	m, _ := c.next()
	var p payload
	if json.Unmarshal(m.Payload, &p); p.Op != opHeartbeat {
		t.Fatalf("got %s, want op 1", m.Payload)
	}
	c.send(map[string]any{"op": 1, "d": 1})
	if m, _ := c.next(); json.Unmarshal(m.Payload, &p) != nil || p.Op != opHeartbeatACK {
		t.Fatalf("got %s, want an ACK", m.Payload)
	}
	if _, err := g.WaitReceived(ctx, func(r Received) bool { return r.Op == opHeartbeat }); err != nil {
		t.Fatal(err)
	}
}

// Only encoding=json and the two stream compressions are served.
func TestGatewayRefusesUnsupportedQuery(t *testing.T) {
	leaktest.Check(t)
	g := startGateway(t, &Gateway{})
	for _, q := range []string{"v=10&encoding=etf", "v=10&compress=zlib", "v=ten"} {
		if _, err := dialGateway(t, g.URL(), q); err == nil {
			t.Errorf("%s: dial succeeded", q)
		}
	}
	if n := len(g.Connections()); n != 0 {
		t.Fatalf("%d connections accepted", n)
	}
}

func TestGatewayAnswersPing(t *testing.T) {
	leaktest.Check(t)
	g := startGateway(t, &Gateway{})
	c := rawDial(t, g.URL(), "v=10")
	c.next() // HELLO
	if _, err := c.nc.Write(wsproto.AppendFrame(nil, wsproto.Client, wsproto.OpPing, true, false, wsproto.MaskKey(), []byte("are you there"))); err != nil {
		t.Fatal(err)
	}
	if m, ok := c.next(); !ok || m.Op != wsproto.OpPong || string(m.Payload) != "are you there" {
		t.Fatalf("got %+v, want the pong", m)
	}
}

// Concurrent Dispatch calls get consecutive sequence numbers, delivered in
// order, with no gap and no duplicate.
func TestGatewayConcurrentDispatchSequence(t *testing.T) {
	leaktest.Check(t)
	g := startGateway(t, &Gateway{})
	c := rawDial(t, g.URL(), "v=10&compress=zlib-stream")
	zr, err := zlib.NewReader(&rawStream{c: c}) // reads HELLO's first bytes
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(zr)
	var p payload
	if err := dec.Decode(&p); err != nil || p.Op != opHello {
		t.Fatalf("HELLO: %+v %v", p, err)
	}
	c.send(identifyPayload("tok", 0, 1, 0))
	if err := dec.Decode(&p); err != nil || p.T != "READY" {
		t.Fatalf("READY: %+v %v", p, err)
	}
	const workers, each = 4, 100
	errs := make(chan error, workers)
	for range workers {
		go func() {
			for range each {
				if _, err := g.Dispatch(0, "E", nil); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range workers {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	for want := int64(2); want <= workers*each+1; want++ {
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		if p.S == nil || *p.S != want {
			t.Fatalf("seq %v, want %d", p.S, want)
		}
	}
}

// rawStream is the concatenated payloads of a raw client's messages.
type rawStream struct {
	c   *rawClient
	buf []byte
}

func (r *rawStream) Read(p []byte) (int, error) {
	for len(r.buf) == 0 {
		m, ok := r.c.next()
		if !ok {
			return 0, io.EOF
		}
		r.buf = m.Payload
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	return n, nil
}
