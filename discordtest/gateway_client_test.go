package discordtest

// A small, independent gateway client for the tests: coder/websocket for
// the WebSocket layer, compress/zlib and klauspost's zstd for the streams,
// encoding/json for payloads. It knows nothing of the fake's internals.

import (
	"bytes"
	"compress/zlib"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/klauspost/compress/zstd"
)

// payload is a gateway payload as a client decodes it.
type payload struct {
	Op int             `json:"op"`
	S  *int64          `json:"s"`
	T  string          `json:"t"`
	D  json.RawMessage `json:"d"`
}

type testClient struct {
	t    testing.TB
	ws   *websocket.Conn
	comp string
	in   *msgStream
	dec  *json.Decoder
	zr   io.Closer
}

// fakeClock is an injectable clock the tests move by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Unix(1_700_000_000, 0)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// startGateway starts g and closes it when the test ends.
func startGateway(t testing.TB, g *Gateway) *Gateway {
	t.Helper()
	if err := g.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Close() })
	return g
}

// dialGateway connects to base+query and reads nothing yet.
func dialGateway(t testing.TB, base, query string) (*testClient, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, base+"/?"+query, nil)
	if err != nil {
		return nil, err
	}
	ws.SetReadLimit(1 << 24)
	c := &testClient{t: t, ws: ws}
	t.Cleanup(func() { c.closeNow() })
	switch {
	case bytes.Contains([]byte(query), []byte("compress=zlib-stream")):
		c.comp = compressZlib
	case bytes.Contains([]byte(query), []byte("compress=zstd-stream")):
		c.comp = compressZstd
	}
	c.in = &msgStream{ws: ws, zlib: c.comp == compressZlib}
	return c, nil
}

func mustDial(t testing.TB, base, query string) *testClient {
	t.Helper()
	c, err := dialGateway(t, base, query)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	return c
}

func (c *testClient) closeNow() {
	c.ws.CloseNow()
	if c.zr != nil {
		c.zr.Close()
	}
}

// read returns the next payload the gateway sent.
func (c *testClient) read(ctx context.Context) (payload, error) {
	c.in.ctx = ctx
	var p payload
	if c.comp == "" {
		typ, b, err := c.ws.Read(ctx)
		if err != nil {
			return p, err
		}
		if typ != websocket.MessageText {
			return p, fmt.Errorf("plain connection got message type %v", typ)
		}
		err = json.Unmarshal(b, &p)
		return p, err
	}
	if c.dec == nil {
		var r io.Reader
		switch c.comp {
		case compressZlib:
			zr, err := zlib.NewReader(c.in)
			if err != nil {
				return p, err
			}
			c.zr, r = zr, zr
		case compressZstd:
			zr, err := zstd.NewReader(c.in, zstd.WithDecoderConcurrency(1))
			if err != nil {
				return p, err
			}
			c.zr, r = zr.IOReadCloser(), zr
		}
		c.dec = json.NewDecoder(r)
	}
	err := c.dec.Decode(&p)
	return p, err
}

func (c *testClient) mustRead(ctx context.Context) payload {
	c.t.Helper()
	p, err := c.read(ctx)
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	return p
}

// readUntil skips payloads until one with op (and event t, if not empty).
func (c *testClient) readUntil(ctx context.Context, op int, t string) payload {
	c.t.Helper()
	for {
		p := c.mustRead(ctx)
		if p.Op == op && (t == "" || p.T == t) {
			return p
		}
	}
}

func (c *testClient) send(ctx context.Context, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return c.ws.Write(ctx, websocket.MessageText, b)
}

func (c *testClient) mustSend(ctx context.Context, v any) {
	c.t.Helper()
	if err := c.send(ctx, v); err != nil {
		c.t.Fatalf("send: %v", err)
	}
}

// closeCode reads until the connection ends and returns the close code the
// gateway sent (-1 when it ended without one).
func (c *testClient) closeCode(ctx context.Context) int {
	for {
		_, err := c.read(ctx)
		if err != nil {
			return int(websocket.CloseStatus(err))
		}
	}
}

func identifyPayload(token string, shard, num int, intents int64) map[string]any {
	return map[string]any{"op": 2, "d": map[string]any{
		"token":      token,
		"properties": map[string]string{"os": "linux", "browser": "ipcord", "device": "ipcord"},
		"shard":      []int{shard, num},
		"intents":    intents,
	}}
}

func resumePayload(token, session string, seq int64) map[string]any {
	return map[string]any{"op": 6, "d": map[string]any{"token": token, "session_id": session, "seq": seq}}
}

// readyInfo is the part of READY the tests check.
type readyInfo struct {
	V                int    `json:"v"`
	SessionID        string `json:"session_id"`
	ResumeGatewayURL string `json:"resume_gateway_url"`
	Shard            [2]int `json:"shard"`
	Guilds           []struct {
		ID          string `json:"id"`
		Unavailable bool   `json:"unavailable"`
	} `json:"guilds"`
}

// identify reads HELLO, sends IDENTIFY and reads READY.
func (c *testClient) identify(ctx context.Context, shard, num int) readyInfo {
	c.t.Helper()
	if p := c.mustRead(ctx); p.Op != opHello {
		c.t.Fatalf("first payload op %d, want HELLO", p.Op)
	}
	c.mustSend(ctx, identifyPayload("tok", shard, num, 513))
	p := c.mustRead(ctx)
	if p.Op != 0 || p.T != "READY" {
		c.t.Fatalf("got op %d t %q, want READY", p.Op, p.T)
	}
	var r readyInfo
	if err := json.Unmarshal(p.D, &r); err != nil {
		c.t.Fatal(err)
	}
	return r
}

// msgStream presents the binary messages of a compressed connection as one
// byte stream, pulling the next message only when the decompressor needs it.
type msgStream struct {
	ws   *websocket.Conn
	ctx  context.Context
	zlib bool
	buf  []byte
	msgs int
}

var errNoFlushSuffix = errors.New("zlib-stream message does not end in 00 00 ff ff")

func (m *msgStream) Read(p []byte) (int, error) {
	for len(m.buf) == 0 {
		typ, b, err := m.ws.Read(m.ctx)
		if err != nil {
			return 0, err
		}
		if typ != websocket.MessageBinary {
			return 0, fmt.Errorf("compressed connection got message type %v", typ)
		}
		if m.zlib && !bytes.HasSuffix(b, []byte{0, 0, 0xff, 0xff}) {
			return 0, errNoFlushSuffix
		}
		m.msgs++
		m.buf = b
	}
	n := copy(p, m.buf)
	m.buf = m.buf[n:]
	return n, nil
}
