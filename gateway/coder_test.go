package gateway_test

import (
	"bytes"
	"compress/zlib"
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/ipcord/ipcord/gateway"
	"github.com/ipcord/ipcord/internal/leaktest"
)

// TestCoderWebsocketPeer runs a zlib-stream connection against a server
// built on an independent WebSocket implementation (coder/websocket) and
// compress/zlib: the upgrade, a message split over three fragments, the
// client's IDENTIFY read back by the server, and a close handshake with
// 4000.
func TestCoderWebsocketPeer(t *testing.T) {
	leaktest.Check(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	serverErr := make(chan error, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		serverErr <- serveCoder(ctx, w, r)
	}))
	defer srv.Close()

	c := newConn(t, gateway.Config{Token: "tok", URL: "ws" + strings.TrimPrefix(srv.URL, "http"), Compression: gateway.CompressZlib})
	d, err := c.Connect()
	if err != nil {
		t.Fatal(err)
	}
	nc, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	nc.Write(d.Request)

	var got []string
	buf := make([]byte, 1500)
loop:
	for {
		n, err := nc.Read(buf)
		if err != nil {
			t.Fatalf("read: %v (events %v)", err, got)
		}
		c.Receive(buf[:n])
		for {
			ev, err := c.Next()
			if err != nil && !errors.Is(err, gateway.ErrClosed) {
				t.Fatal(err)
			}
			if ev == nil {
				break
			}
			switch ev := ev.(type) {
			case *gateway.Hello:
				got = append(got, "HELLO")
				if err := c.Identify(); err != nil {
					t.Fatal(err)
				}
			case *gateway.Ready:
				got = append(got, "READY")
			case *gateway.Dispatch:
				var m struct{ Content string }
				if err := ev.Decode(&m); err != nil {
					t.Fatal(err)
				}
				got = append(got, ev.Name+":"+m.Content[:3]+":"+strconv.Itoa(len(m.Content)))
			case *gateway.Closed:
				got = append(got, "CLOSED:"+ev.Code.String())
				nc.Write(c.Output())
				break loop
			}
		}
		if _, err := nc.Write(c.Output()); err != nil {
			t.Fatal(err)
		}
	}
	if err := <-serverErr; err != nil {
		t.Fatalf("server: %v", err)
	}
	want := "HELLO READY MESSAGE_CREATE:abc:30003 CLOSED:4000 unknown error"
	if strings.Join(got, " ") != want {
		t.Fatalf("events %q\nwant   %q", strings.Join(got, " "), want)
	}
}

func serveCoder(ctx context.Context, w http.ResponseWriter, r *http.Request) error {
	if r.URL.Query().Get("compress") != "zlib-stream" {
		return errors.New("no compress=zlib-stream in " + r.URL.RawQuery)
	}
	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{CompressionMode: websocket.CompressionDisabled})
	if err != nil {
		return err
	}
	defer ws.CloseNow()
	var zbuf bytes.Buffer
	zw := zlib.NewWriter(&zbuf)
	compress := func(s string) []byte {
		zbuf.Reset()
		zw.Write([]byte(s))
		zw.Flush()
		return bytes.Clone(zbuf.Bytes())
	}
	if err := ws.Write(ctx, websocket.MessageBinary, compress(`{"t":null,"s":null,"op":10,"d":{"heartbeat_interval":41250}}`)); err != nil {
		return err
	}
	typ, p, err := ws.Read(ctx)
	if err != nil {
		return err
	}
	var id struct {
		Op int `json:"op"`
		D  struct {
			Token string `json:"token"`
		} `json:"d"`
	}
	if err := json.Unmarshal(p, &id); err != nil || typ != websocket.MessageText || id.Op != 2 || id.D.Token != "tok" {
		return errors.New("bad IDENTIFY: " + string(p))
	}
	if err := ws.Write(ctx, websocket.MessageBinary, compress(readyMsg)); err != nil {
		return err
	}
	// One zlib message over three WebSocket fragments.
	big := compress(`{"t":"MESSAGE_CREATE","s":2,"op":0,"d":{"content":"abc` + strings.Repeat("x", 30000) + `"}}`)
	mw, err := ws.Writer(ctx, websocket.MessageBinary)
	if err != nil {
		return err
	}
	for _, part := range [][]byte{big[:10], big[10 : len(big)/2], big[len(big)/2:]} {
		if _, err := mw.Write(part); err != nil {
			return err
		}
	}
	if err := mw.Close(); err != nil {
		return err
	}
	// Close waits for the client's close reply.
	return ws.Close(4000, "")
}
