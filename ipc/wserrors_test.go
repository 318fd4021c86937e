package ipc_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ipcord/ipcord/internal/errtest"
	"github.com/ipcord/ipcord/internal/leaktest"
	"github.com/ipcord/ipcord/internal/wsproto"
	"github.com/ipcord/ipcord/ipc"
)

// hostileServer speaks enough of ipcord.v1 to accept a Client (upgrade,
// hello), then answers its first request with attack. It reports the close
// code the client sent back, or -1 if none came.
func hostileServer(t *testing.T, attack []byte) (url string, clientClose <-chan int) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan int, 1)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key, err := wsproto.CheckRequest(r)
		if err != nil {
			wsproto.Refuse(w, err)
			return
		}
		nc, buffered, err := wsproto.Accept(w, key, ipc.Subprotocol, "")
		if err != nil {
			return
		}
		defer nc.Close()
		nc.SetDeadline(time.Now().Add(5 * time.Second))
		dec := wsproto.Decoder{Role: wsproto.Server}
		dec.Feed(buffered)
		read := func() (wsproto.Message, error) {
			for {
				m, ok, err := dec.Next()
				if err != nil || ok {
					return m, err
				}
				if _, err := dec.ReadFrom(nc); err != nil {
					return m, err
				}
			}
		}
		if _, err := read(); err != nil { // the client's hello
			return
		}
		nc.Write(wsproto.AppendFrame(nil, wsproto.Server, wsproto.OpText, true, false, [4]byte{}, []byte(`{"t":"hello","v":1,"id":"srv","routes":["x"]}`)))
		if _, err := read(); err != nil { // the request
			return
		}
		nc.Write(attack)
		for {
			m, err := read()
			if err != nil {
				got <- -1
				return
			}
			if m.Op == wsproto.OpClose {
				got <- int(m.CloseCode)
				return
			}
		}
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return "ws://" + ln.Addr().String(), got
}

// A server breaking the WebSocket protocol fails the call with errors the
// caller can match: ErrConnectionLost and a *CloseError with the code the
// client closed with, and nothing of package wsproto (internal) in the
// chain.
func TestProtocolViolationIsTyped(t *testing.T) {
	leaktest.Check(t)
	huge := []byte{0x81, 127, 0, 0, 0, 0, 0, 0, 0, 0}
	binary.BigEndian.PutUint64(huge[2:], 1<<40)
	for _, tc := range []struct {
		name   string
		attack []byte
		code   int
	}{
		{"frame of 2^40 bytes", huge, 1009},
		{"masked frame", wsproto.AppendFrame(nil, wsproto.Client, wsproto.OpText, true, false, [4]byte{1, 2, 3, 4}, []byte("{}")), 1002},
		{"close reason not UTF-8", wsproto.AppendFrame(nil, wsproto.Server, wsproto.OpClose, true, false, [4]byte{}, []byte{0x03, 0xe8, 0xff}), 1007},
	} {
		// Many rounds: the client's close frame once raced the socket's
		// close and was lost a few percent of the time.
		for round := range 20 {
			t.Run(fmt.Sprintf("%s/%d", tc.name, round), func(t *testing.T) { violate(t, tc.attack, tc.code) })
		}
	}
}

// violate runs one call against a hostile server sending attack, and
// checks the error and the close code the client answered with.
func violate(t *testing.T, attack []byte, code int) {
	url, clientClose := hostileServer(t, attack)
	c, err := ipc.Dial(ctxTimeout(t, 5*time.Second), ipc.ClientConfig{URL: url, Secret: secret, Identifier: "victim"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err = c.Call(ctx, "x", nil, nil)
	var ce *ipc.CloseError
	if !errors.Is(err, ipc.ErrConnectionLost) || !errors.As(err, &ce) || ce.Code != code {
		t.Fatalf("Call = %v, want ErrConnectionLost with a *ipc.CloseError of code %d", err, code)
	}
	errtest.Exported(t, err)
	select {
	case got := <-clientClose:
		if got != code {
			t.Fatalf("client closed with %d, want %d (-1: no close frame)", got, code)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("server saw no close")
	}
}

// The WebSocket details a conformance run found, over a real socket to a
// Server: each must close the connection with the right code and reason,
// and at once.
func TestWebSocketDetails(t *testing.T) {
	leaktest.Check(t)
	srv := &ipc.Server{Router: testRouter(t, nil), Secret: secret}
	url := startServer(t, srv)
	for _, tc := range []struct {
		name   string
		send   func(rc *rawClient)
		code   int
		reason string
	}{
		{"close reason not UTF-8", func(rc *rawClient) {
			rc.sendFrame(wsproto.OpClose, []byte{0x03, 0xe8, 'o', 'k', 0xff})
		}, 1007, "UTF-8"},
		{"invalid UTF-8 in an unfinished fragmented text", func(rc *rawClient) {
			// The message is never finished: the server must not wait for it.
			rc.nc.Write(wsproto.AppendFrame(nil, wsproto.Client, wsproto.OpText, false, false, wsproto.MaskKey(), []byte(`{"t":"req","id":1,"route":"`)))
			rc.nc.Write(wsproto.AppendFrame(nil, wsproto.Client, wsproto.OpContinuation, false, false, wsproto.MaskKey(), []byte{'e', 0xc0, 0xaf}))
		}, 1007, "UTF-8"},
		{"ping with a non-minimal length", func(rc *rawClient) {
			rc.nc.Write([]byte{0x89, 0x80 | 126, 0, 4, 0, 0, 0, 0, 'p', 'i', 'n', 'g'})
		}, 1002, "minimal"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rc := helloed(t, url, "conformance-"+strings.ReplaceAll(tc.name, " ", "-"))
			tc.send(rc)
			if reason := rc.expectClose(tc.code); !strings.Contains(reason, tc.reason) {
				t.Fatalf("close reason %q, want it to say %q", reason, tc.reason)
			}
		})
	}
}

// A server refusing the upgrade, or answering with something that is not
// one, fails Dial with an *ipc.HandshakeError: nothing of package wsproto
// in the chain.
func TestUpgradeFailureIsTyped(t *testing.T) {
	leaktest.Check(t)
	for _, tc := range []struct {
		name   string
		reply  string
		status int
	}{
		{"refused", "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\n\r\nbusy", 503},
		{"bad accept", "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: wrong\r\nSec-WebSocket-Protocol: " + ipc.Subprotocol + "\r\n\r\n", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			done := make(chan struct{})
			go func() {
				defer close(done)
				for {
					nc, err := ln.Accept()
					if err != nil {
						return
					}
					// One request, one answer, then the client's close.
					nc.SetDeadline(time.Now().Add(5 * time.Second))
					nc.Read(make([]byte, 4096))
					nc.Write([]byte(tc.reply))
					nc.Read(make([]byte, 1))
					nc.Close()
				}
			}()
			t.Cleanup(func() { ln.Close(); <-done })
			// Dial tries again until its context ends, then reports the
			// last attempt's error.
			_, err = ipc.Dial(ctxTimeout(t, 500*time.Millisecond), ipc.ClientConfig{URL: "ws://" + ln.Addr().String(), Secret: secret, MinBackoff: 50 * time.Millisecond})
			var he *ipc.HandshakeError
			if !errors.Is(err, ipc.ErrHandshake) || !errors.As(err, &he) || (tc.status != 0 && he.Status != tc.status) {
				t.Fatalf("Dial = %v, want an *ipc.HandshakeError with status %d", err, tc.status)
			}
			errtest.Exported(t, err)
		})
	}
}
