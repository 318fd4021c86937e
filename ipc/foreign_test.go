package ipc_test

import (
	"errors"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/ipcord/ipcord/internal/leaktest"
	"github.com/ipcord/ipcord/ipc"
)

// A WebSocket server that does not speak ipcord.v1 (it picks no
// subprotocol, or its first message is no hello) is ErrVersion, at once:
// trying again would not change it.
func TestDialNotIpcord(t *testing.T) {
	leaktest.Check(t)
	for name, subprotocols := range map[string][]string{"no subprotocol": nil, "no hello": {ipc.Subprotocol}} {
		t.Run(name, func(t *testing.T) {
			hs := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{Subprotocols: subprotocols})
				if err != nil {
					return
				}
				defer ws.CloseNow()
				ws.Write(r.Context(), websocket.MessageText, []byte(`{"op":10}`))
				ws.Read(r.Context())
			})}
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			go hs.Serve(ln)
			t.Cleanup(func() { hs.Close() })
			start := time.Now()
			_, err = ipc.Dial(ctxTimeout(t, 30*time.Second), ipc.ClientConfig{URL: "ws://" + ln.Addr().String()})
			if took := time.Since(start); !errors.Is(err, ipc.ErrVersion) || took > 10*time.Second {
				t.Fatalf("Dial: %v after %v; want ErrVersion at once", err, took)
			}
		})
	}
}

// An HTTP server that is no discovery listener is ErrVersion to Discover.
func TestDiscoverNotIpcord(t *testing.T) {
	leaktest.Check(t)
	hs := &http.Server{Handler: http.NotFoundHandler()}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go hs.Serve(ln)
	t.Cleanup(func() { hs.Close() })
	if _, err := ipc.Discover(ctxTimeout(t, 10*time.Second), ipc.DiscoverConfig{Addr: ln.Addr().String()}); !errors.Is(err, ipc.ErrVersion) {
		t.Fatalf("Discover: %v, want ErrVersion", err)
	}
}
