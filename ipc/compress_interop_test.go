package ipc_test

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/ipcord/ipcord/internal/leaktest"
	"github.com/ipcord/ipcord/ipc"
)

// TestCompressionInteropCoderClient: coder/websocket, an independent
// permessage-deflate implementation, talks to our Server with compression
// in both of its modes; large messages go compressed both ways.
func TestCompressionInteropCoderClient(t *testing.T) {
	leaktest.Check(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cl := &watchListener{Listener: ln}
	srv := &ipc.Server{Router: bigRouter(64 << 10), Secret: secret, Compression: ipc.Compression{Enabled: true}}
	u := serveOn(t, srv, cl)

	for i, mode := range []websocket.CompressionMode{websocket.CompressionNoContextTakeover, websocket.CompressionContextTakeover} {
		ctx := ctxTimeout(t, 5*time.Second)
		ws, resp, err := websocket.Dial(ctx, u, &websocket.DialOptions{
			Subprotocols:         []string{ipc.Subprotocol},
			HTTPHeader:           http.Header{"Authorization": {"Bearer " + secret}},
			CompressionMode:      mode,
			CompressionThreshold: 256,
		})
		if err != nil {
			t.Fatalf("mode %v: dial: %v", mode, err)
		}
		if ext := resp.Header.Get("Sec-WebSocket-Extensions"); !strings.HasPrefix(ext, "permessage-deflate") {
			t.Fatalf("mode %v: extensions %q", mode, ext)
		}
		ws.SetReadLimit(8 << 20)
		read := func() map[string]json.RawMessage {
			_, b, err := ws.Read(ctx)
			if err != nil {
				t.Fatalf("mode %v: read: %v", mode, err)
			}
			var m map[string]json.RawMessage
			if err := json.Unmarshal(b, &m); err != nil {
				t.Fatalf("mode %v: %q: %v", mode, b, err)
			}
			return m
		}
		// One identifier per connection: the server may not have dropped
		// the previous connection yet when this one says hello, and would
		// refuse a reused identifier as a duplicate.
		ws.Write(ctx, websocket.MessageText, []byte(fmt.Sprintf(`{"t":"hello","v":1,"id":"coder-%d","routes":[]}`, i)))
		read()

		before := cl.written.Load()
		ws.Write(ctx, websocket.MessageText, []byte(`{"t":"req","id":1,"route":"big"}`))
		if m := read(); len(m["data"]) < 60<<10 {
			t.Fatalf("mode %v: big reply of %d bytes", mode, len(m["data"]))
		}
		if sent := cl.written.Load() - before; sent > 16<<10 {
			t.Errorf("mode %v: server wrote %d bytes for a 64 KiB reply; want it compressed", mode, sent)
		}

		// coder compresses this request (over its threshold); we inflate it.
		arg := strings.Repeat("ab", 10000)
		ws.Write(ctx, websocket.MessageText, []byte(`{"t":"req","id":2,"route":"echo","args":"`+arg+`"}`))
		if m := read(); string(m["data"]) != `"`+arg+`"` {
			t.Fatalf("mode %v: echo came back as %.40q", mode, m["data"])
		}
		ws.Close(websocket.StatusNormalClosure, "")
	}
}

// TestCompressionInteropCoderServer: our Client against a coder/websocket
// server that accepts permessage-deflate (it honours our request for no
// context takeover) and echoes ipcord frames back as replies.
func TestCompressionInteropCoderServer(t *testing.T) {
	leaktest.Check(t)
	big := strings.Repeat("coder ", 4000)
	served := make(chan struct{})
	hs := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer close(served)
		ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{
			Subprotocols:         []string{ipc.Subprotocol},
			CompressionMode:      websocket.CompressionContextTakeover,
			CompressionThreshold: 256,
		})
		if err != nil {
			return
		}
		defer ws.CloseNow()
		ws.SetReadLimit(8 << 20)
		ctx := r.Context()
		if _, _, err := ws.Read(ctx); err != nil { // the client's hello
			return
		}
		ws.Write(ctx, websocket.MessageText, []byte(`{"t":"hello","v":1,"id":"coder-server","routes":["big"]}`))
		for {
			_, b, err := ws.Read(ctx)
			if err != nil {
				return
			}
			var req struct {
				ID   uint64          `json:"id"`
				Args json.RawMessage `json:"args"`
			}
			json.Unmarshal(b, &req)
			out, _ := json.Marshal(map[string]any{"t": "res", "id": req.ID, "data": string(req.Args) + big})
			ws.Write(ctx, websocket.MessageText, out)
		}
	})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cl := &watchListener{Listener: ln}
	go hs.Serve(cl)
	t.Cleanup(func() { hs.Close() })
	c := dial(t, ipc.ClientConfig{URL: "ws://" + ln.Addr().String(), Compression: ipc.Compression{Enabled: true, MinSize: 100}})
	var got string
	arg := strings.Repeat("x", 5000)
	for range 3 { // several messages: any context carried over would break the next
		before := cl.written.Load()
		if err := c.Call(ctxTimeout(t, 5*time.Second), "big", arg, &got); err != nil {
			t.Fatalf("call: %v", err)
		}
		if got != `"`+arg+`"`+big {
			t.Fatalf("reply of %d bytes, want %d", len(got), len(arg)+2+len(big))
		}
		if sent := cl.written.Load() - before; sent > int64(len(big))/4 {
			t.Errorf("coder wrote %d bytes for a %d-byte reply; want it compressed", sent, len(got))
		}
	}
	c.Close()
	<-served
}
