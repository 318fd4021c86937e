package gateway_test

import (
	"encoding/binary"
	"errors"
	"testing"

	"github.com/ipcord/ipcord/gateway"
	"github.com/ipcord/ipcord/internal/errtest"
	"github.com/ipcord/ipcord/internal/wsproto"
)

// hugeFrame is the header of a text frame announcing 2^40 bytes.
func hugeFrame() []byte {
	b := []byte{0x81, 127, 0, 0, 0, 0, 0, 0, 0, 0}
	binary.BigEndian.PutUint64(b[2:], 1<<40)
	return b
}

// Every way a server can break the WebSocket protocol or the upgrade is
// an error of this package, matched with errors.Is and errors.As.
func TestWebSocketErrorsAreExported(t *testing.T) {
	for _, tc := range []struct {
		name string
		recv func(p *peer) []byte
		is   []error
		code gateway.CloseCode // the *ProtocolError's code; 0 for a handshake failure
	}{
		{"frame of 2^40 bytes", func(*peer) []byte { return hugeFrame() },
			[]error{gateway.ErrProtocol, gateway.ErrMessageTooBig}, 1009},
		{"masked frame", func(*peer) []byte {
			return wsproto.AppendFrame(nil, wsproto.Client, wsproto.OpText, true, false, [4]byte{1, 2, 3, 4}, []byte("{}"))
		}, []error{gateway.ErrProtocol}, 1002},
		{"reserved opcode", func(*peer) []byte { return []byte{0x83, 0} }, []error{gateway.ErrProtocol}, 1002},
		{"close reason not UTF-8", func(*peer) []byte {
			return wsproto.AppendFrame(nil, wsproto.Server, wsproto.OpClose, true, false, [4]byte{}, []byte{0x0f, 0xa0, 0xff})
		}, []error{gateway.ErrProtocol}, 1007},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newConn(t, gateway.Config{})
			p, _ := open(t, c, gateway.CompressNone)
			c.Receive(tc.recv(p))
			_, err := drain(t, c)
			for _, want := range tc.is {
				if !errors.Is(err, want) {
					t.Errorf("err = %v, want it to match %v", err, want)
				}
			}
			var pe *gateway.ProtocolError
			if !errors.As(err, &pe) || pe.Code != tc.code {
				t.Fatalf("err = %#v, want a *gateway.ProtocolError with code %d", err, tc.code)
			}
			errtest.Exported(t, err)
			if msgs := p.sent(c.Output()); len(msgs) != 1 || msgs[0].Op != wsproto.OpClose || msgs[0].CloseCode != wsproto.CloseCode(tc.code) {
				t.Fatalf("sent %+v, want a close frame with %d", msgs, tc.code)
			}
		})
	}
	for name, reply := range map[string]string{
		"refused":   "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\n\r\nbusy",
		"bad reply": "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: wrong\r\n\r\n",
		"not HTTP":  "SSH-2.0-OpenSSH\r\n\r\n",
	} {
		t.Run(name, func(t *testing.T) {
			c := newConn(t, gateway.Config{})
			if _, err := c.Connect(); err != nil {
				t.Fatal(err)
			}
			c.Receive([]byte(reply))
			_, err := c.Next()
			var he *gateway.HandshakeError
			if !errors.Is(err, gateway.ErrHandshake) || !errors.As(err, &he) {
				t.Fatalf("err = %v, want a *gateway.HandshakeError", err)
			}
			if name == "refused" && (he.Status != 503 || string(he.Body) != "busy") {
				t.Fatalf("HandshakeError %+v", he)
			}
			errtest.Exported(t, err)
		})
	}
}

// A dispatch before HELLO, a READY before HELLO or without IDENTIFY, and a
// RESUMED without RESUME are refused with a *ProtocolError; none of them
// moves the sequence or sets the session.
func TestOutOfOrderDispatchRefused(t *testing.T) {
	restored := gateway.Session{ID: "old", Seq: 10, ResumeURL: "wss://resume.example"}
	for _, tc := range []struct {
		name    string
		session gateway.Session // restored before Connect
		before  []string        // received first, fine
		ident   bool            // Identify after them
		bad     string
	}{
		{name: "dispatch before HELLO", bad: `{"t":"MESSAGE_CREATE","s":5,"op":0,"d":{}}`},
		{name: "dispatch before HELLO, resuming", session: restored, bad: `{"t":"MESSAGE_CREATE","s":50,"op":0,"d":{}}`},
		{name: "READY before HELLO", bad: `{"t":"READY","s":1,"op":0,"d":{"session_id":"evil","resume_gateway_url":"wss://evil.example"}}`},
		{name: "READY without IDENTIFY", before: []string{helloMsg},
			bad: `{"t":"READY","s":1,"op":0,"d":{"session_id":"evil","resume_gateway_url":"wss://evil.example"}}`},
		{name: "READY answering RESUME", session: restored, before: []string{helloMsg},
			bad: `{"t":"READY","s":1,"op":0,"d":{"session_id":"evil","resume_gateway_url":"wss://evil.example"}}`},
		{name: "RESUMED without RESUME", before: []string{helloMsg}, ident: true, bad: `{"t":"RESUMED","s":7,"op":0,"d":null}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newConn(t, gateway.Config{})
			c.Restore(tc.session)
			p, _ := open(t, c, gateway.CompressNone)
			for _, m := range tc.before {
				feed(t, c, p.frame(m))
			}
			if tc.ident {
				if err := c.Identify(); err != nil {
					t.Fatal(err)
				}
			}
			c.Output()
			c.Receive(p.frame(tc.bad))
			evs, err := drain(t, c)
			var pe *gateway.ProtocolError
			if !errors.Is(err, gateway.ErrProtocol) || !errors.As(err, &pe) || pe.Code != 1002 {
				t.Fatalf("events %v, err %v; want a 1002 *gateway.ProtocolError", evs, err)
			}
			if len(evs) != 0 {
				t.Fatalf("events %v delivered", evs)
			}
			if got := c.Session(); got != tc.session {
				t.Fatalf("session %+v after the refused message, want %+v", got, tc.session)
			}
			if msgs := p.sent(c.Output()); len(msgs) != 1 || msgs[0].CloseCode != wsproto.CloseProtocolError {
				t.Fatalf("sent %+v, want a 1002 close", msgs)
			}
		})
	}
}
