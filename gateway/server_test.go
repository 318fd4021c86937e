package gateway_test

import (
	"bytes"
	"compress/zlib"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/ipcord/ipcord/gateway"
	"github.com/ipcord/ipcord/internal/wsproto"
	"github.com/klauspost/compress/zstd"
)

// peer is the server side of one connection, enough of Discord to drive a
// Conn: it answers the upgrade, compresses and frames payloads the way the
// gateway does, and decodes what the client sent.
type peer struct {
	t    testing.TB
	comp gateway.Compression
	zbuf bytes.Buffer
	zw   *zlib.Writer
	zs   *zstd.Encoder
	dec  wsproto.Decoder
}

func newPeer(t testing.TB, comp gateway.Compression) *peer {
	p := &peer{t: t, comp: comp, dec: wsproto.Decoder{Role: wsproto.Server}}
	switch comp {
	case gateway.CompressZlib:
		p.zw = zlib.NewWriter(&p.zbuf)
	case gateway.CompressZstd:
		enc, err := zstd.NewWriter(&p.zbuf, zstd.WithEncoderConcurrency(1))
		if err != nil {
			t.Fatal(err)
		}
		p.zs = enc
	}
	return p
}

// accept returns the 101 reply to the client's upgrade request.
func (p *peer) accept(d gateway.Dial) []byte { return acceptReply(p.t, d) }

// acceptReply is the server's 101 reply to d's upgrade request.
func acceptReply(t testing.TB, d gateway.Dial) []byte {
	t.Helper()
	req := string(d.Request)
	i := strings.Index(req, "Sec-WebSocket-Key: ")
	if i < 0 {
		t.Fatalf("no key in request %q", req)
	}
	key := req[i+len("Sec-WebSocket-Key: "):]
	key = key[:strings.Index(key, "\r\n")]
	return wsproto.AppendResponse(nil, key, "", "", http.Header{})
}

// frame compresses and frames one gateway payload.
func (p *peer) frame(payload string) []byte {
	p.t.Helper()
	var w interface {
		Write([]byte) (int, error)
		Flush() error
	}
	switch p.comp {
	case gateway.CompressZlib:
		w = p.zw
	case gateway.CompressZstd:
		w = p.zs
	default:
		return wsproto.AppendFrame(nil, wsproto.Server, wsproto.OpText, true, false, [4]byte{}, []byte(payload))
	}
	p.zbuf.Reset()
	w.Write([]byte(payload))
	if err := w.Flush(); err != nil {
		p.t.Fatal(err)
	}
	return wsproto.AppendFrame(nil, wsproto.Server, wsproto.OpBinary, true, false, [4]byte{}, p.zbuf.Bytes())
}

// sent decodes the client's output into messages.
func (p *peer) sent(out []byte) []wsproto.Message {
	p.t.Helper()
	p.dec.Feed(out)
	var msgs []wsproto.Message
	for {
		m, ok, err := p.dec.Next()
		if err != nil {
			p.t.Fatalf("client sent a bad frame: %v", err)
		}
		if !ok {
			return msgs
		}
		m.Payload = append([]byte(nil), m.Payload...)
		msgs = append(msgs, m)
	}
}

// sentPayloads decodes the client's output into gateway payloads.
func (p *peer) sentPayloads(out []byte) []sentPayload {
	p.t.Helper()
	var ps []sentPayload
	for _, m := range p.sent(out) {
		if m.Op != wsproto.OpText {
			p.t.Fatalf("client sent %v, want text", m.Op)
		}
		var sp sentPayload
		if err := json.Unmarshal(m.Payload, &sp); err != nil {
			p.t.Fatalf("client sent %q: %v", m.Payload, err)
		}
		sp.Raw = string(m.Payload)
		ps = append(ps, sp)
	}
	return ps
}

type sentPayload struct {
	Op  gateway.Opcode  `json:"op"`
	D   json.RawMessage `json:"d"`
	Raw string          `json:"-"`
}

// drain collects events until Next needs more bytes.
func drain(t testing.TB, c *gateway.Conn) ([]gateway.Event, error) {
	t.Helper()
	var evs []gateway.Event
	for {
		ev, err := drain1(t, c)
		if err != nil || ev == nil {
			return evs, err
		}
		evs = append(evs, ev)
	}
}

// drainIdentify is drain for a recorded server stream: it sends IDENTIFY
// after a Hello that does not resume, as a driver does, so the READY
// that follows answers one.
func drainIdentify(t testing.TB, c *gateway.Conn) ([]gateway.Event, error) {
	t.Helper()
	var evs []gateway.Event
	for {
		got, err := drain1(t, c)
		if err != nil || got == nil {
			return evs, err
		}
		evs = append(evs, got)
		if h, ok := got.(*gateway.Hello); ok && !h.Resuming {
			if err := c.Identify(); err != nil {
				t.Fatalf("Identify: %v", err)
			}
		}
	}
}

// drain1 returns the next event, copying a *Dispatch the Conn reuses.
func drain1(t testing.TB, c *gateway.Conn) (gateway.Event, error) {
	ev, err := c.Next()
	if err != nil || ev == nil {
		return nil, err
	}
	if d, ok := ev.(*gateway.Dispatch); ok {
		cp := *d
		cp.Data = append([]byte(nil), d.Data...)
		ev = &cp
	}
	return ev, nil
}

// feed gives b to c and drains events, failing on error.
func feed(t testing.TB, c *gateway.Conn, b []byte) []gateway.Event {
	t.Helper()
	c.Receive(b)
	evs, err := drain(t, c)
	if err != nil && !errors.Is(err, gateway.ErrClosed) {
		t.Fatalf("Next: %v", err)
	}
	return evs
}

const (
	helloMsg = `{"t":null,"s":null,"op":10,"d":{"heartbeat_interval":41250}}`
	readyMsg = `{"t":"READY","s":1,"op":0,"d":{"v":10,"session_id":"sess-1","resume_gateway_url":"wss://resume.example:8443","user":{"id":"1"}}}`
)

func newConn(t testing.TB, cfg gateway.Config) *gateway.Conn {
	t.Helper()
	if cfg.Token == "" {
		cfg.Token = "tok"
	}
	if cfg.Jitter == nil {
		cfg.Jitter = func() float64 { return 0.5 }
	}
	c, err := gateway.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// open connects c and completes the upgrade, returning the peer.
func open(t testing.TB, c *gateway.Conn, comp gateway.Compression) (*peer, gateway.Dial) {
	t.Helper()
	d, err := c.Connect()
	if err != nil {
		t.Fatal(err)
	}
	p := newPeer(t, comp)
	if evs := feed(t, c, p.accept(d)); len(evs) != 0 {
		t.Fatalf("events after upgrade: %v", evs)
	}
	return p, d
}

// identify runs HELLO, IDENTIFY and READY on an open connection.
func identify(t testing.TB, c *gateway.Conn, p *peer) {
	t.Helper()
	evs := feed(t, c, p.frame(helloMsg))
	if len(evs) != 1 {
		t.Fatalf("events %v", evs)
	}
	if h := evs[0].(*gateway.Hello); h.Resuming {
		t.Fatal("Hello.Resuming on a new session")
	}
	if err := c.Identify(); err != nil {
		t.Fatal(err)
	}
	if ps := p.sentPayloads(c.Output()); len(ps) != 1 || ps[0].Op != gateway.OpIdentify {
		t.Fatalf("sent %v, want IDENTIFY", ps)
	}
	evs = feed(t, c, p.frame(readyMsg))
	if len(evs) != 1 {
		t.Fatalf("events %v", evs)
	}
	if _, ok := evs[0].(*gateway.Ready); !ok {
		t.Fatalf("got %T, want *Ready", evs[0])
	}
}
