package ipc_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ipcord/ipcord/internal/errtest"
	"github.com/ipcord/ipcord/internal/leaktest"
	"github.com/ipcord/ipcord/internal/wsproto"
	"github.com/ipcord/ipcord/ipc"
)

// bigRouter serves "big", a reply of about n bytes of repetitive JSON, and
// "echo".
func bigRouter(n int) *ipc.Router {
	r := ipc.NewRouter()
	item := strings.Repeat("guild member ", 8)
	list := make([]string, n/(len(item)+3))
	for i := range list {
		list[i] = item
	}
	r.HandleFunc("big", func(ctx context.Context, req *ipc.Request) (any, error) { return list, nil })
	r.HandleFunc("echo", func(ctx context.Context, req *ipc.Request) (any, error) { return req.Args, nil })
	return r
}

func TestCompressionNegotiation(t *testing.T) {
	leaktest.Check(t)
	const size = 256 << 10
	tests := []struct {
		name           string
		server, client bool
		compressed     bool
	}{
		{"both", true, true, true},
		{"client only", false, true, false},
		{"server only", true, false, false},
		{"neither", false, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			cl := &watchListener{Listener: ln}
			srv := &ipc.Server{Router: bigRouter(size), Secret: secret, Compression: ipc.Compression{Enabled: tt.server}}
			u := serveOn(t, srv, cl)
			c := dial(t, ipc.ClientConfig{URL: u, Compression: ipc.Compression{Enabled: tt.client}})

			before := cl.written.Load()
			var got []string
			if err := c.Call(ctxTimeout(t, 5*time.Second), "big", nil, &got); err != nil {
				t.Fatalf("call: %v", err)
			}
			if n := len(got); n == 0 || len(got[n-1]) != len(strings.Repeat("guild member ", 8)) {
				t.Fatalf("reply has %d items", n)
			}
			sent := cl.written.Load() - before
			if tt.compressed && sent > size/10 {
				t.Errorf("server wrote %d bytes for a %d-byte reply; want it compressed", sent, size)
			}
			if !tt.compressed && sent < size*9/10 {
				t.Errorf("server wrote %d bytes for a %d-byte reply; want it uncompressed", sent, size)
			}

			// A large request goes the other way, compressed the same.
			arg := strings.Repeat("x", 64<<10)
			var echo string
			if err := c.Call(ctxTimeout(t, 5*time.Second), "echo", arg, &echo); err != nil || echo != arg {
				t.Fatalf("echo of %d bytes: %d bytes back, %v", len(arg), len(echo), err)
			}
		})
	}
}

// deflateDial dials u as a raw ipcord.v1 client offering permessage-deflate
// and completes the hello.
func deflateDial(t *testing.T, u string) *rawClient {
	t.Helper()
	pu, _ := url.Parse(u)
	req := &wsproto.Request{URL: pu, Key: wsproto.NewKey(), Subprotocols: []string{ipc.Subprotocol},
		Extensions: wsproto.DeflateOffer, Header: http.Header{"Authorization": {"Bearer " + secret}}}
	rc, resp := upgrade(t, req, wsproto.Decoder{Role: wsproto.Client, MaxMessage: 8 << 20, AllowRSV1: true})
	if on, err := wsproto.CheckDeflateResponse(resp.Extensions); err != nil || !on {
		t.Fatalf("server did not accept deflate: %q, %v", resp.Extensions, err)
	}
	rc.send(`{"t":"hello","v":1,"id":"raw-deflate","routes":[]}`)
	if m := rc.recvJSON(); m["t"] != "hello" {
		t.Fatalf("server's first frame: %v", m)
	}
	return rc
}

// TestCompressionThreshold: only messages of at least MinSize go out with
// RSV1; they inflate to the reply.
func TestCompressionThreshold(t *testing.T) {
	leaktest.Check(t)
	srv := &ipc.Server{Router: bigRouter(8 << 10), Secret: secret, Compression: ipc.Compression{Enabled: true, MinSize: 1000}}
	rc := deflateDial(t, startServer(t, srv))

	rc.send(`{"t":"req","id":1,"route":"echo","args":"small"}`)
	m, err := rc.recv()
	if err != nil || m.Compressed || !strings.Contains(string(m.Payload), `"small"`) {
		t.Fatalf("small reply: compressed=%v %q %v; want it plain", m.Compressed, m.Payload, err)
	}

	rc.send(`{"t":"req","id":2,"route":"big"}`)
	m, err = rc.recv()
	if err != nil || !m.Compressed {
		t.Fatalf("8 KiB reply: compressed=%v, %v; want RSV1", m.Compressed, err)
	}
	var f wsproto.Inflater
	plain, err := f.Append(nil, m.Payload, 1<<20)
	if err != nil || !strings.HasPrefix(string(plain), `{"t":"res","id":2,"data":["guild member`) {
		t.Fatalf("inflated reply %.60q, %v", plain, err)
	}

	// A compressed request is served like a plain one.
	var d wsproto.Deflater
	req := d.Append(nil, []byte(`{"t":"req","id":3,"route":"echo","args":"`+strings.Repeat("z", 5000)+`"}`))
	rc.nc.Write(wsproto.AppendFrame(nil, wsproto.Client, wsproto.OpText, true, true, wsproto.MaskKey(), req))
	m, err = rc.recv()
	if err != nil || !m.Compressed {
		t.Fatalf("reply to a compressed request: %v, compressed=%v", err, m.Compressed)
	}
	if plain, err = f.Append(nil, m.Payload, 1<<20); err != nil || !strings.Contains(string(plain), `"id":3`) {
		t.Fatalf("reply to a compressed request: %.60q, %v", plain, err)
	}
}

// TestCompressionBomb: a small compressed message inflating past
// MaxMessage closes the connection with 1009 instead of allocating it.
func TestCompressionBomb(t *testing.T) {
	leaktest.Check(t)
	srv := &ipc.Server{Router: bigRouter(10), Secret: secret, MaxMessage: 64 << 10, Compression: ipc.Compression{Enabled: true}}
	rc := deflateDial(t, startServer(t, srv))
	var d wsproto.Deflater
	bomb := d.Append(nil, []byte(`{"t":"req","id":1,"route":"echo","args":"`+strings.Repeat("A", 8<<20)+`"}`))
	if len(bomb) > 64<<10 {
		t.Fatalf("bomb of %d bytes would be refused before inflating", len(bomb))
	}
	rc.nc.Write(wsproto.AppendFrame(nil, wsproto.Client, wsproto.OpText, true, true, wsproto.MaskKey(), bomb))
	rc.expectClose(int(wsproto.CloseMessageTooBig))
}

// TestCompressionRSV1Refused: without negotiation, a compressed frame is a
// protocol error, not a message.
func TestCompressionRSV1Refused(t *testing.T) {
	leaktest.Check(t)
	srv := &ipc.Server{Router: bigRouter(10), Secret: secret}
	rc := helloed(t, startServer(t, srv), "no-deflate")
	var d wsproto.Deflater
	req := d.Append(nil, []byte(`{"t":"req","id":1,"route":"echo","args":"x"}`))
	rc.nc.Write(wsproto.AppendFrame(nil, wsproto.Client, wsproto.OpText, true, true, wsproto.MaskKey(), req))
	rc.expectClose(int(wsproto.CloseProtocolError))
}

// TestCompressionBadResponse: a server answering with extension
// parameters our offer cannot honour fails Dial with a *HandshakeError.
func TestCompressionBadResponse(t *testing.T) {
	leaktest.Check(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key, _ := wsproto.CheckRequest(r)
		nc, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer nc.Close()
		nc.Write(wsproto.AppendResponse(nil, key, ipc.Subprotocol, "permessage-deflate; client_max_window_bits=9", nil))
		nc.SetReadDeadline(time.Now().Add(5 * time.Second))
		nc.Read(make([]byte, 1024))
	})}
	go hs.Serve(ln)
	t.Cleanup(func() { hs.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	_, err = ipc.Dial(ctx, ipc.ClientConfig{URL: "ws://" + ln.Addr().String(), Compression: ipc.Compression{Enabled: true}, MinBackoff: time.Second})
	var he *ipc.HandshakeError
	if !errors.Is(err, ipc.ErrHandshake) || !errors.As(err, &he) || !strings.Contains(he.Reason, "client_max_window_bits") {
		t.Fatalf("Dial against a bad extension answer: %v, want an ipc.HandshakeError about the extension", err)
	}
	errtest.Exported(t, err)
}

// The Python dialects' connections compress by default, both ways, as
// their peers expect (aiohttp's and websockets' servers accept an offer,
// websockets' clients make one); DialectCompression off on either end
// turns it off. The real peers' side is in aiohttp_test.go.
func TestDialectCompression(t *testing.T) {
	const size = 256 << 10
	off := &ipc.Compression{}
	for _, d := range []ipc.Dialect{ipc.ExtIPC, ipc.BetterIPC, ipc.Zonis} {
		for _, tt := range []struct {
			name           string
			server, client *ipc.Compression
			compressed     bool
		}{
			{"default", nil, nil, true},
			{"server off", off, nil, false},
			{"client off", nil, off, false},
		} {
			t.Run(string(d)+"/"+tt.name, func(t *testing.T) {
				leaktest.Check(t)
				ln, err := net.Listen("tcp", "127.0.0.1:0")
				if err != nil {
					t.Fatal(err)
				}
				wl := &watchListener{Listener: ln}
				u := serveOn(t, &ipc.Server{Router: bigRouter(size), Secret: secret, DialectCompression: tt.server}, wl)
				c := dial(t, ipc.ClientConfig{URL: u, Dialect: d, DialectCompression: tt.client})
				var got []string
				if err := c.Call(ctxTimeout(t, 5*time.Second), "big", nil, &got); err != nil || len(got) == 0 {
					t.Fatalf("big: %d items, %v", len(got), err)
				}
				arg := map[string]string{"p": strings.Repeat("x", size)}
				var echo map[string]string
				if err := c.Call(ctxTimeout(t, 5*time.Second), "echo", arg, &echo); err != nil || echo["p"] != arg["p"] {
					t.Fatalf("echo: %v", err)
				}
				w, r := wl.written.Load(), wl.read.Load()
				if tt.compressed && (w > size/4 || r > size/4) {
					t.Errorf("%d bytes written, %d read for two 256 KiB replies and a 256 KiB request: want them compressed", w, r)
				}
				if !tt.compressed && (w < size || r < size) {
					t.Errorf("%d bytes written, %d read: want them uncompressed", w, r)
				}
			})
		}
	}
}

// A compressed message is bounded, decompressed, by its connection's own
// limit: 4 MiB on a dialect connection, not the native 1 MiB.
func TestDialectCompressedLimit(t *testing.T) {
	leaktest.Check(t)
	u := startServer(t, &ipc.Server{Router: bigRouter(1024), Secret: secret})
	c := dial(t, ipc.ClientConfig{URL: u, Dialect: ipc.ExtIPC})
	arg := map[string]string{"p": strings.Repeat("x", 2<<20)}
	var echo map[string]string
	if err := c.Call(ctxTimeout(t, 5*time.Second), "echo", arg, &echo); err != nil || echo["p"] != arg["p"] {
		t.Fatalf("a 2 MiB request, compressed: %v", err)
	}
}
