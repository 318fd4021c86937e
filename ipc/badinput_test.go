package ipc_test

import (
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ipcord/ipcord/internal/leaktest"
	"github.com/ipcord/ipcord/internal/wsproto"
	"github.com/ipcord/ipcord/ipc"
)

// TestBadInput sends what a broken or hostile peer might, each on its own
// connection, and checks the typed answer; a healthy client on the same
// server must keep working throughout.
func TestBadInput(t *testing.T) {
	leaktest.Check(t)
	srv := &ipc.Server{Router: testRouter(t, nil), Secret: secret, MaxMessage: 4096, MaxInFlight: 2}
	url := startServer(t, srv)
	healthy := dial(t, ipc.ClientConfig{URL: url, Identifier: "healthy"})
	ctx := ctxTimeout(t, 10*time.Second)

	t.Run("over the limit", func(t *testing.T) {
		rc := helloed(t, url, "big")
		rc.send(`{"t":"req","id":1,"route":"echo","args":"` + strings.Repeat("x", 5000) + `"}`)
		rc.expectClose(int(wsproto.CloseMessageTooBig))
	})
	t.Run("malformed JSON", func(t *testing.T) {
		rc := helloed(t, url, "garbage")
		rc.send(`{"t":"req","id":1,"route":"echo","args":{nope}`)
		if reason := rc.expectClose(int(wsproto.CloseInvalidPayload)); !strings.Contains(reason, "malformed") {
			t.Fatalf("close reason %q", reason)
		}
	})
	t.Run("binary message", func(t *testing.T) {
		rc := helloed(t, url, "binary")
		rc.sendFrame(wsproto.OpBinary, []byte{0x82, 0xa1})
		rc.expectClose(int(wsproto.CloseUnsupportedData))
	})
	t.Run("unknown frame type", func(t *testing.T) {
		rc := helloed(t, url, "future")
		rc.send(`{"t":"gossip","x":1}`) // no id: ignored
		rc.send(`{"t":"stream","id":9}`)
		m := rc.recvJSON()
		if m["t"] != "err" || m["id"] != 9.0 || m["code"] != "unsupported" {
			t.Fatalf("got %v", m)
		}
	})
	t.Run("unknown route and reply ids", func(t *testing.T) {
		rc := helloed(t, url, "lost")
		rc.send(`{"t":"res","id":12345,"data":1}`) // nobody asked: dropped
		rc.send(`{"t":"req","id":1,"route":"nope","args":null}`)
		if m := rc.recvJSON(); m["code"] != "unknown_route" || m["id"] != 1.0 {
			t.Fatalf("got %v", m)
		}
	})
	t.Run("wrong protocol version", func(t *testing.T) {
		rc, _, err := rawDial(t, url, nil)
		if err != nil {
			t.Fatal(err)
		}
		rc.send(`{"t":"hello","v":2,"id":"v2"}`)
		if reason := rc.expectClose(4400); !strings.Contains(reason, "version 2") {
			t.Fatalf("reason %q", reason)
		}
	})
	t.Run("first message not hello", func(t *testing.T) {
		rc, _, err := rawDial(t, url, nil)
		if err != nil {
			t.Fatal(err)
		}
		rc.send(`{"t":"req","id":1,"route":"echo"}`)
		rc.expectClose(int(wsproto.CloseProtocolError))
	})
	t.Run("wrong secret", func(t *testing.T) {
		_, resp, err := rawDial(t, url, http.Header{"Authorization": {"Bearer nope"}})
		if err == nil || resp == nil || resp.Status != http.StatusUnauthorized {
			t.Fatalf("got %v %+v", err, resp)
		}
	})
	t.Run("too many in flight", func(t *testing.T) {
		rc := helloed(t, url, "greedy")
		for id := 1; id <= 3; id++ {
			rc.send(`{"t":"req","id":` + strconv.Itoa(id) + `,"route":"block","timeout_ms":300}`)
		}
		m := rc.recvJSON()
		if m["code"] != "overloaded" || m["id"] != 3.0 {
			t.Fatalf("got %v", m)
		}
	})
	t.Run("handler panic", func(t *testing.T) {
		rc := helloed(t, url, "panicky")
		rc.send(`{"t":"req","id":1,"route":"panic"}`)
		if m := rc.recvJSON(); m["code"] != "handler_error" {
			t.Fatalf("got %v", m)
		}
	})
	if n, err := ipc.CallAs[int](ctx, healthy, "add", addArgs{20, 22}); err != nil || n != 42 {
		t.Fatalf("healthy client after bad input: %d, %v", n, err)
	}
}

func TestHandshakeTimeout(t *testing.T) {
	leaktest.Check(t)
	srv := &ipc.Server{Secret: secret, HandshakeTimeout: 100 * time.Millisecond}
	url := startServer(t, srv)
	rc, _, err := rawDial(t, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Never send hello: the server gives up after the handshake timeout.
	start := time.Now()
	if _, err := rc.recv(); err == nil {
		t.Fatal("connection still open")
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Fatalf("closed after %v", took)
	}
}

func TestHandshakeCap(t *testing.T) {
	leaktest.Check(t)
	srv := &ipc.Server{Secret: secret, MaxHandshakes: 1}
	url := startServer(t, srv)
	if _, _, err := rawDial(t, url, nil); err != nil { // holds the only slot
		t.Fatal(err)
	}
	if _, resp, err := rawDial(t, url, nil); err == nil || resp == nil || resp.Status != http.StatusServiceUnavailable {
		t.Fatalf("second pending handshake: %v %+v", err, resp)
	}
}

// TestClientThatStopsReading: a client that never reads its replies fills
// its send queue and is dropped; the server's other clients don't notice.
func TestClientThatStopsReading(t *testing.T) {
	leaktest.Check(t)
	srv := &ipc.Server{Router: testRouter(t, nil), Secret: secret, MaxMessage: 64 << 10, WriteTimeout: 200 * time.Millisecond}
	url := startServer(t, srv)
	healthy := dial(t, ipc.ClientConfig{URL: url, Identifier: "healthy"})
	rc := helloed(t, url, "deaf")
	if tc, ok := rc.nc.(*net.TCPConn); ok {
		tc.SetReadBuffer(4096)
	}
	big := `{"t":"req","id":%d,"route":"echo","args":"` + strings.Repeat("y", 60<<10) + `"}`
	go func() {
		for i := 1; i <= 400; i++ {
			if _, err := rc.nc.Write(wsproto.AppendFrame(nil, wsproto.Client, wsproto.OpText, true, false, wsproto.MaskKey(), []byte(strings.Replace(big, "%d", strconv.Itoa(i), 1)))); err != nil {
				return
			}
		}
	}()
	waitFor(t, 10*time.Second, "deaf client dropped", func() bool {
		for _, id := range srv.Clients() {
			if id == "deaf" {
				return false
			}
		}
		return true
	})
	ctx := ctxTimeout(t, 5*time.Second)
	if n, err := ipc.CallAs[int](ctx, healthy, "add", addArgs{1, 2}); err != nil || n != 3 {
		t.Fatalf("healthy client: %d, %v", n, err)
	}
}
