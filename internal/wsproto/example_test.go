package wsproto_test

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"time"

	"github.com/ipcord/ipcord/internal/wsproto"
)

func ExampleAppendFrame() {
	// Batch two frames into one buffer: one write puts both on the wire.
	var out []byte
	out = wsproto.AppendFrame(out, wsproto.Server, wsproto.OpText, true, false, [4]byte{}, []byte("Hello"))
	out = wsproto.AppendClose(out, wsproto.Server, [4]byte{}, wsproto.CloseNormal, "bye")
	fmt.Printf("% x\n", out)
	// Output: 81 05 48 65 6c 6c 6f 88 05 03 e8 62 79 65
}

func ExampleDecoder() {
	// A server receives a fragmented text message with a ping in the middle,
	// one byte at a time.
	var wire []byte
	key := wsproto.MaskKey()
	wire = wsproto.AppendFrame(wire, wsproto.Client, wsproto.OpText, false, false, key, []byte("Hel"))
	wire = wsproto.AppendFrame(wire, wsproto.Client, wsproto.OpPing, true, false, key, []byte("?"))
	wire = wsproto.AppendFrame(wire, wsproto.Client, wsproto.OpContinuation, true, false, key, []byte("lo"))

	d := wsproto.Decoder{Role: wsproto.Server, ValidateUTF8: true}
	for i := range wire {
		d.Feed(wire[i : i+1])
		for {
			m, ok, err := d.Next()
			if err != nil {
				fmt.Println("close the connection with", err.(*wsproto.ProtocolError).Code)
				return
			}
			if !ok {
				break
			}
			fmt.Printf("%s %q\n", m.Op, m.Payload)
		}
	}
	// Output:
	// ping "?"
	// text "Hello"
}

// Example_server shows the server flow on a net/http handler (CheckRequest,
// pick a subprotocol, Hijack, write the 101 reply, feed the early bytes)
// and the client flow over a plain TCP connection, which sends its first
// frame in the same write as the upgrade request.
func Example_server() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key, err := wsproto.CheckRequest(r)
		if err != nil {
			wsproto.Refuse(w, err)
			return
		}
		sub := ""
		for _, p := range wsproto.Subprotocols(r) {
			if p == "echo" {
				sub = p
			}
		}
		conn, early, err := wsproto.Accept(w, key, sub, "")
		if err != nil {
			return
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(5 * time.Second))
		d := wsproto.Decoder{Role: wsproto.Server}
		d.Feed(early) // frames that came with the request
		for {
			m, ok, err := d.Next()
			if err != nil {
				return
			}
			if !ok {
				if _, err := d.ReadFrom(conn); err != nil {
					return
				}
				continue
			}
			if m.Op == wsproto.OpClose {
				conn.Write(wsproto.AppendClose(nil, wsproto.Server, [4]byte{}, m.CloseCode, ""))
				return
			}
			conn.Write(wsproto.AppendFrame(nil, wsproto.Server, m.Op, true, false, [4]byte{}, m.Payload))
		}
	}))
	defer srv.Close()

	u, _ := url.Parse(strings.Replace(srv.URL, "http", "ws", 1))
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	req := &wsproto.Request{URL: u, Key: wsproto.NewKey(), Subprotocols: []string{"echo"}}
	out := req.Append(nil)
	out = wsproto.AppendFrame(out, wsproto.Client, wsproto.OpText, true, false, wsproto.MaskKey(), []byte("hello"))
	out = wsproto.AppendClose(out, wsproto.Client, wsproto.MaskKey(), wsproto.CloseNormal, "done")
	conn.Write(out) // one write: the request and two frames

	var in []byte
	buf := make([]byte, 4096)
	for {
		n, err := conn.Read(buf)
		in = append(in, buf[:n]...)
		resp, used, ok, perr := wsproto.ParseResponse(in, req)
		if perr != nil {
			fmt.Println(perr)
			return
		}
		if ok {
			fmt.Println("subprotocol:", resp.Subprotocol)
			in = in[used:]
			break
		}
		if err != nil {
			fmt.Println(err)
			return
		}
	}
	d := wsproto.Decoder{Role: wsproto.Client}
	d.Feed(in)
	for {
		m, ok, err := d.Next()
		if err != nil {
			fmt.Println(err)
			return
		}
		if !ok {
			if _, err := d.ReadFrom(conn); err == io.EOF {
				return
			} else if err != nil {
				fmt.Println(err)
				return
			}
			continue
		}
		fmt.Printf("%s %q %d\n", m.Op, m.Payload, m.CloseCode)
		if m.Op == wsproto.OpClose {
			return
		}
	}
	// Output:
	// subprotocol: echo
	// text "hello" 0
	// close "\x03\xe8" 1000
}

// ExampleParseResponse is the client handshake without sockets, as the
// sans-I/O gateway drives it: bytes to send out, bytes received in.
func ExampleParseResponse() {
	u, _ := url.Parse("wss://gateway.discord.gg/?v=10&encoding=json")
	req := &wsproto.Request{URL: u, Key: "dGhlIHNhbXBsZSBub25jZQ=="}
	toSend := req.Append(nil)
	fmt.Printf("%q\n", toSend[:strings.Index(string(toSend), "\r\n")])

	// What the server sent back, in two reads; the second one also carries
	// the first frame.
	reply := wsproto.AppendResponse(nil, req.Key, "", "", nil)
	reply = wsproto.AppendFrame(reply, wsproto.Server, wsproto.OpText, true, false, [4]byte{}, []byte(`{"op":10}`))
	var received []byte
	for _, chunk := range [][]byte{reply[:20], reply[20:]} {
		received = append(received, chunk...)
		resp, n, ok, err := wsproto.ParseResponse(received, req)
		if err != nil {
			fmt.Println(err)
			return
		}
		if !ok {
			fmt.Println("need more bytes")
			continue
		}
		fmt.Println("status", resp.Status)
		d := wsproto.Decoder{Role: wsproto.Client}
		d.Feed(received[n:])
		m, _, _ := d.Next()
		fmt.Printf("%s %s\n", m.Op, m.Payload)
	}
	// Output:
	// "GET /?v=10&encoding=json HTTP/1.1"
	// need more bytes
	// status 101
	// text {"op":10}
}
