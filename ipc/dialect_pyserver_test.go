package ipc_test

import (
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/ipcord/ipcord/internal/wsproto"
)

// pyServer stands in for a Python library's server: it accepts plain
// WebSocket connections and hands each to the test, which plays the
// server's part frame by frame.
type pyServer struct {
	t     *testing.T
	url   string
	conns chan *pyConn
}

type pyConn struct {
	t      *testing.T
	nc     net.Conn
	dec    wsproto.Decoder
	header http.Header
}

func startPyServer(t *testing.T) *pyServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ps := &pyServer{t: t, url: "ws://" + ln.Addr().String(), conns: make(chan *pyConn, 16)}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var all []net.Conn
	hs := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key, err := wsproto.CheckRequest(r)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		nc, buffered, err := wsproto.Accept(w, key, "", "")
		if err != nil {
			return
		}
		mu.Lock()
		all = append(all, nc)
		mu.Unlock()
		pc := &pyConn{t: t, nc: nc, dec: wsproto.Decoder{Role: wsproto.Server, MaxMessage: 1 << 20}, header: r.Header}
		pc.dec.Feed(buffered)
		ps.conns <- pc
	})}
	wg.Go(func() { hs.Serve(ln) })
	t.Cleanup(func() {
		hs.Close()
		mu.Lock()
		for _, nc := range all {
			nc.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return ps
}

// accept returns the next connection the client made.
func (ps *pyServer) accept() *pyConn {
	ps.t.Helper()
	select {
	case pc := <-ps.conns:
		return pc
	case <-time.After(5 * time.Second):
		ps.t.Fatal("the client did not connect")
		return nil
	}
}

// next returns the next data or close message, answering pings.
func (pc *pyConn) next() (wsproto.Message, error) {
	pc.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		m, ok, err := pc.dec.Next()
		if err != nil {
			return m, err
		}
		if ok {
			switch m.Op {
			case wsproto.OpPing:
				pc.nc.Write(wsproto.AppendFrame(nil, wsproto.Server, wsproto.OpPong, true, false, [4]byte{}, m.Payload))
				continue
			case wsproto.OpPong:
				continue
			}
			m.Payload = append([]byte(nil), m.Payload...)
			return m, nil
		}
		if _, err := pc.dec.ReadFrom(pc.nc); err != nil {
			return m, err
		}
	}
}

// expect reads one text message and compares it, as JSON, with want.
func (pc *pyConn) expect(want string) {
	pc.t.Helper()
	m, err := pc.next()
	if err != nil || m.Op != wsproto.OpText {
		pc.t.Fatalf("want %s, got %v %q (%v)", want, m.Op, m.Payload, err)
	}
	if !(vars{}).match(decodeAny(pc.t, 0, want), decodeAny(pc.t, 0, string(m.Payload))) {
		pc.t.Fatalf("client sent\n %s\nwant\n %s", m.Payload, want)
	}
}

func (pc *pyConn) send(s string) {
	pc.nc.Write(wsproto.AppendFrame(nil, wsproto.Server, wsproto.OpText, true, false, [4]byte{}, []byte(s)))
}

func (pc *pyConn) closeWith(code int) {
	pc.nc.Write(wsproto.AppendClose(nil, wsproto.Server, [4]byte{}, wsproto.CloseCode(code), ""))
}
