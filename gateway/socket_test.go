package gateway_test

import (
	"bufio"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ipcord/ipcord/gateway"
	"github.com/ipcord/ipcord/internal/leaktest"
	"github.com/ipcord/ipcord/internal/wsproto"
)

// TestRealSocket drives a Conn over a real TCP connection to a minimal
// gateway on 127.0.0.1: upgrade, HELLO, IDENTIFY, READY, a dispatch, a
// close with 4000, then a second connection that RESUMEs.
func TestRealSocket(t *testing.T) {
	leaktest.Check(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()

	type seen struct {
		ops []gateway.Opcode
		err error
	}
	results := make(chan seen, 2)
	go func() {
		for round := 0; round < 2; round++ {
			nc, err := ln.Accept()
			if err != nil {
				results <- seen{err: err}
				return
			}
			results <- serveGateway(t, nc, round)
		}
	}()

	c := newConn(t, gateway.Config{
		Token: "tok", URL: "ws://" + ln.Addr().String(), Compression: gateway.CompressZstd, IgnoreResumeURL: true,
	})
	for round := 0; round < 2; round++ {
		d, err := c.Connect()
		if err != nil {
			t.Fatal(err)
		}
		if d.Resume != (round == 1) {
			t.Fatalf("round %d: Resume = %v", round, d.Resume)
		}
		nc, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		nc.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := nc.Write(d.Request); err != nil {
			t.Fatal(err)
		}
		var names []string
		buf := make([]byte, 4096)
	loop:
		for {
			n, err := nc.Read(buf)
			if err != nil {
				t.Fatalf("round %d: read: %v", round, err)
			}
			c.Receive(buf[:n])
			for {
				ev, err := c.Next()
				if err != nil && !errors.Is(err, gateway.ErrClosed) {
					t.Fatalf("round %d: %v", round, err)
				}
				if ev == nil {
					break
				}
				switch ev := ev.(type) {
				case *gateway.Hello:
					if !ev.Resuming {
						if err := c.Identify(); err != nil {
							t.Fatal(err)
						}
					}
				case *gateway.Ready:
					names = append(names, "READY")
				case *gateway.Resumed:
					names = append(names, "RESUMED")
				case *gateway.Dispatch:
					names = append(names, ev.Name)
				case *gateway.Closed:
					if ev.Code != 4000 || ev.Action != gateway.ActionResume {
						t.Fatalf("closed %+v", ev)
					}
					nc.Write(c.Output())
					break loop
				}
			}
			if _, err := nc.Write(c.Output()); err != nil {
				t.Fatal(err)
			}
		}
		nc.Close()
		want := []string{"READY", "MESSAGE_CREATE"}
		if round == 1 {
			want = []string{"RESUMED", "MESSAGE_CREATE"}
		}
		if strings.Join(names, ",") != strings.Join(want, ",") {
			t.Fatalf("round %d: events %v, want %v", round, names, want)
		}
		s := <-results
		if s.err != nil {
			t.Fatalf("round %d: server: %v", round, s.err)
		}
		wantOp := gateway.OpIdentify
		if round == 1 {
			wantOp = gateway.OpResume
		}
		if len(s.ops) != 1 || s.ops[0] != wantOp {
			t.Fatalf("round %d: client sent ops %v, want [%v]", round, s.ops, wantOp)
		}
	}
}

// serveGateway plays one gateway connection on nc and reports the opcodes
// the client sent before the server closed.
func serveGateway(t *testing.T, nc net.Conn, round int) (s struct {
	ops []gateway.Opcode
	err error
}) {
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(nc)
	req, err := http.ReadRequest(br)
	if err != nil {
		s.err = err
		return
	}
	if req.URL.Query().Get("compress") != "zstd-stream" || req.URL.Query().Get("v") != "10" {
		s.err = errors.New("bad query " + req.URL.RawQuery)
		return
	}
	key, err := wsproto.CheckRequest(req)
	if err != nil {
		s.err = err
		return
	}
	p := newPeer(t, gateway.CompressZstd)
	out := wsproto.AppendResponse(nil, key, "", "", nil)
	out = append(out, p.frame(helloMsg)...)
	if _, err := nc.Write(out); err != nil {
		s.err = err
		return
	}
	// Wait for IDENTIFY or RESUME.
	dec := wsproto.Decoder{Role: wsproto.Server}
	buf := make([]byte, 4096)
	for len(s.ops) == 0 {
		n, err := br.Read(buf)
		if err != nil {
			s.err = err
			return
		}
		dec.Feed(buf[:n])
		for {
			m, ok, err := dec.Next()
			if err != nil {
				s.err = err
				return
			}
			if !ok {
				break
			}
			var sp sentPayload
			if err := json.Unmarshal(m.Payload, &sp); err != nil {
				s.err = err
				return
			}
			s.ops = append(s.ops, sp.Op)
		}
	}
	first := readyMsg
	if round == 1 {
		first = `{"t":"RESUMED","s":3,"op":0,"d":{}}`
	}
	out = append(p.frame(first), p.frame(`{"t":"MESSAGE_CREATE","s":2,"op":0,"d":{"content":"`+strings.Repeat("x", 10000)+`"}}`)...)
	out = wsproto.AppendClose(out, wsproto.Server, [4]byte{}, 4000, "")
	if _, err := nc.Write(out); err != nil {
		s.err = err
		return
	}
	// Read the close reply.
	for {
		n, err := br.Read(buf)
		if err != nil {
			s.err = err
			return
		}
		dec.Feed(buf[:n])
		m, ok, err := dec.Next()
		if err != nil {
			s.err = err
			return
		}
		if ok && m.Op == wsproto.OpClose {
			if m.CloseCode != 4000 {
				s.err = errors.New("close reply with code " + m.CloseCode.String())
			}
			return
		}
	}
}
