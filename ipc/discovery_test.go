package ipc_test

import (
	"bufio"
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ipcord/ipcord/internal/leaktest"
	"github.com/ipcord/ipcord/internal/wsproto"
	"github.com/ipcord/ipcord/ipc"
)

// startDiscovery serves d on 127.0.0.1:0 and shuts it down when t ends;
// it returns host:port.
func startDiscovery(t *testing.T, d *ipc.Discovery) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- d.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		d.Shutdown(ctx)
		if err := <-done; !errors.Is(err, ipc.ErrClosed) {
			t.Errorf("Discovery.Serve returned %v, want ErrClosed", err)
		}
	})
	return ln.Addr().String()
}

// namedServer serves a "who" route answering the server's name.
func namedServer(t *testing.T, name string) (*ipc.Server, string) {
	t.Helper()
	r := ipc.NewRouter()
	r.HandleFunc("who", func(ctx context.Context, req *ipc.Request) (any, error) { return name, nil })
	srv := &ipc.Server{Router: r, Secret: secret, Name: name}
	u := startServer(t, srv)
	waitFor(t, 5*time.Second, "Serve to start", func() bool { return srv.URL() != "" })
	return srv, u
}

func discover(t *testing.T, addr, sec string) ([]ipc.ServerInfo, error) {
	return ipc.Discover(ctxTimeout(t, 5*time.Second), ipc.DiscoverConfig{Addr: addr, Secret: sec})
}

func TestDiscoveryListing(t *testing.T) {
	leaktest.Check(t)
	s0, u0 := namedServer(t, "c0")
	s1, u1 := namedServer(t, "c1")
	later := &ipc.Server{Name: "not-serving-yet"}
	d := &ipc.Discovery{Secret: "disco"}
	for _, s := range []*ipc.Server{s0, s1, later} {
		if err := d.Add(s); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.AddURL(&ipc.Server{Name: "c0"}, "ws://elsewhere:1"); !errors.Is(err, ipc.ErrDuplicateServer) {
		t.Fatalf("adding a second c0: %v, want ErrDuplicateServer", err)
	}
	if err := d.AddURL(&ipc.Server{Name: "proxied"}, "wss://bot.example:443/ipc"); err != nil {
		t.Fatal(err)
	}
	if err := d.AddURL(&ipc.Server{Name: "anywhere"}, "ws://0.0.0.0:9999"); err != nil {
		t.Fatal(err)
	}
	addr := startDiscovery(t, d)

	got, err := discover(t, addr, "disco")
	want := []ipc.ServerInfo{{"c0", u0}, {"c1", u1}, {"proxied", "wss://bot.example:443/ipc"},
		{"anywhere", "ws://127.0.0.1:9999"}} // listening on every address: reached as discovery was
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("Discover = %v, %v; want %v", got, err, want)
	}

	// Pick one and call it: discovery leads to a working connection.
	info, err := ipc.PickServer(got, "c1")
	if err != nil {
		t.Fatal(err)
	}
	c := dial(t, ipc.ClientConfig{URL: info.URL})
	var who string
	if err := c.Call(ctxTimeout(t, 5*time.Second), "who", nil, &who); err != nil || who != "c1" {
		t.Fatalf("call through discovery: %q, %v", who, err)
	}

	for _, bad := range []string{"", "wrong", "disc"} {
		if _, err := discover(t, addr, bad); !errors.Is(err, ipc.ErrUnauthorized) {
			t.Errorf("Discover with secret %q: %v, want ErrUnauthorized", bad, err)
		}
	}

	for _, tt := range []struct {
		method, path string
		status       int
	}{
		{"POST", "/ipcord/servers", http.StatusMethodNotAllowed},
		{"GET", "/elsewhere", http.StatusNotFound},
	} {
		req, _ := http.NewRequest(tt.method, "http://"+addr+tt.path, nil)
		req.Header.Set("Authorization", "Bearer disco")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tt.status {
			t.Errorf("%s %s: status %d, want %d", tt.method, tt.path, resp.StatusCode, tt.status)
		}
	}
	http.DefaultClient.CloseIdleConnections()
}

// TestDiscoverySecretDefault: without its own Secret, a Discovery checks
// the default server's.
func TestDiscoverySecretDefault(t *testing.T) {
	leaktest.Check(t)
	s0, _ := namedServer(t, "only")
	d := &ipc.Discovery{}
	d.Add(s0)
	addr := startDiscovery(t, d)
	if _, err := discover(t, addr, "disco"); !errors.Is(err, ipc.ErrUnauthorized) {
		t.Fatalf("wrong secret: %v", err)
	}
	if got, err := discover(t, addr, secret); err != nil || len(got) != 1 {
		t.Fatalf("server's secret: %v, %v", got, err)
	}
}

func TestPickServer(t *testing.T) {
	two := []ipc.ServerInfo{{"c0", "ws://a"}, {"c1", "ws://b"}}
	if s, err := ipc.PickServer(two[:1], ""); err != nil || s.Name != "c0" {
		t.Errorf("only server: %v, %v", s, err)
	}
	if s, err := ipc.PickServer(two, "c1"); err != nil || s.URL != "ws://b" {
		t.Errorf("by name: %v, %v", s, err)
	}
	_, err := ipc.PickServer(two, "")
	if !errors.Is(err, ipc.ErrAmbiguousServer) || !strings.Contains(err.Error(), "c0, c1") {
		t.Errorf("two servers, no name: %v; want ErrAmbiguousServer listing c0, c1", err)
	}
	_, err = ipc.PickServer(two, "c9")
	if !errors.Is(err, ipc.ErrServerNotFound) || !strings.Contains(err.Error(), "c0, c1") {
		t.Errorf("unknown name: %v; want ErrServerNotFound listing the names", err)
	}
	if _, err := ipc.PickServer(nil, ""); !errors.Is(err, ipc.ErrServerNotFound) {
		t.Errorf("empty listing: %v", err)
	}
}

// wsDial opens a WebSocket to addr without any subprotocol, as the Python
// libraries do.
func wsDial(t *testing.T, addr string) *rawClient {
	t.Helper()
	req := &wsproto.Request{URL: &url.URL{Scheme: "ws", Host: addr, Path: "/"}, Key: wsproto.NewKey()}
	rc, _ := upgrade(t, req, wsproto.Decoder{Role: wsproto.Client})
	return rc
}

// upgrade sends req on a new connection to req.URL.Host and returns a raw
// client past the server's 101 reply, decoding with dec.
func upgrade(t *testing.T, req *wsproto.Request, dec wsproto.Decoder) (*rawClient, *wsproto.Response) {
	t.Helper()
	nc, err := net.Dial("tcp", req.URL.Host)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	nc.Write(req.Append(nil))
	nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	br := bufio.NewReader(nc)
	var buf []byte
	for {
		b, err := br.ReadByte()
		if err != nil {
			t.Fatal(err)
		}
		buf = append(buf, b)
		resp, n, ok, err := wsproto.ParseResponse(buf, req)
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			rc := &rawClient{t: t, nc: nc, dec: dec}
			rc.dec.Feed(buf[n:])
			if n := br.Buffered(); n > 0 { // frames that came with the reply
				p, _ := br.Peek(n)
				rc.dec.Feed(p)
			}
			return rc, resp
		}
	}
}

func portOf(t *testing.T, wsURL string) float64 {
	u, _ := url.Parse(wsURL)
	var p float64
	json.Unmarshal([]byte(u.Port()), &p)
	return p
}

func TestDiscoveryExtIPCHandshake(t *testing.T) {
	leaktest.Check(t)
	s0, _ := namedServer(t, "c0")
	s1, u1 := namedServer(t, "c1")
	d := &ipc.Discovery{Secret: "disco", Default: "c1"}
	d.Add(s0)
	d.Add(s1)
	addr := startDiscovery(t, d)

	rc := wsDial(t, addr)
	want := map[string]any{"message": "Connection success", "port": portOf(t, u1), "code": float64(200)}
	for range 2 { // the connection stays open for more handshakes
		rc.send(`{"connect": true, "headers": {"Authorization": "disco"}}`)
		if got := rc.recvJSON(); !reflect.DeepEqual(got, want) {
			t.Fatalf("handshake reply %v, want %v", got, want)
		}
	}

	for _, bad := range []string{
		`{"connect": true, "headers": {"Authorization": "nope"}}`,
		`{"connect": true, "headers": {"Authorization": null}}`,
		`{"connect": true}`,
	} {
		rc := wsDial(t, addr)
		rc.send(bad)
		got := rc.recvJSON()
		if want := map[string]any{"error": "Invalid or no token provided.", "code": float64(403)}; !reflect.DeepEqual(got, want) {
			t.Fatalf("%s: reply %v, want %v", bad, got, want)
		}
		rc.expectClose(int(wsproto.ClosePolicyViolation))
	}
}

// TestDiscoveryNoLeak: a message that is neither a discovery handshake nor
// a better-ipc multicast call (dialect_discovery_test.go) — a route call
// that happens to say connect, garbage — never gets a discovery reply: it
// is refused with a close.
func TestDiscoveryNoLeak(t *testing.T) {
	leaktest.Check(t)
	s0, _ := namedServer(t, "c0")
	d := &ipc.Discovery{Secret: "disco"}
	d.Add(s0)
	addr := startDiscovery(t, d)
	for _, msg := range []string{
		`{"connect": true, "endpoint": "who", "headers": {"Authorization": "disco"}}`,
		`not json`,
	} {
		rc := wsDial(t, addr)
		rc.send(msg)
		m, err := rc.recv()
		if err != nil || m.Op != wsproto.OpClose || m.CloseCode != wsproto.ClosePolicyViolation {
			t.Fatalf("%s: got %v %q (close %d), %v; want only a 1008 close", msg, m.Op, m.Payload, m.CloseCode, err)
		}
	}
}

// TestDiscoveryShutdown: open handshake connections are closed with 1001;
// a silent connection is dropped after HandshakeTimeout.
func TestDiscoveryShutdown(t *testing.T) {
	leaktest.Check(t)
	s0, _ := namedServer(t, "c0")
	d := &ipc.Discovery{Secret: "disco", HandshakeTimeout: 200 * time.Millisecond}
	d.Add(s0)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- d.Serve(ln) }()

	silent := wsDial(t, ln.Addr().String())
	start := time.Now()
	if _, err := silent.recv(); err == nil {
		t.Fatal("a silent connection got a message")
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Fatalf("silent connection dropped after %v; HandshakeTimeout is 200ms", took)
	}

	rc := wsDial(t, ln.Addr().String())
	rc.send(`{"connect": true, "headers": {"Authorization": "disco"}}`)
	rc.recvJSON()
	go func() {
		// Answer the close so Shutdown does not wait for its timeout.
		rc.expectClose(int(wsproto.CloseGoingAway))
		rc.nc.Write(wsproto.AppendClose(nil, wsproto.Client, wsproto.MaskKey(), wsproto.CloseGoingAway, ""))
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := d.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if err := <-done; !errors.Is(err, ipc.ErrClosed) {
		t.Fatalf("Serve after Shutdown: %v", err)
	}
}

func TestDiscoveryTLS(t *testing.T) {
	leaktest.Check(t)
	ca := newTestCA(t, "disco")
	cert, key := ca.issue(t, x509.ExtKeyUsageServerAuth, "127.0.0.1")
	s0, u0 := namedServer(t, "c0")
	d := &ipc.Discovery{Secret: "disco", TLS: ipc.TLS{CertFile: cert, KeyFile: key}}
	d.Add(s0)
	addr := startDiscovery(t, d)
	got, err := ipc.Discover(ctxTimeout(t, 5*time.Second), ipc.DiscoverConfig{Addr: addr, Secret: "disco", TLS: ipc.ClientTLS{CAFile: ca.file}})
	if err != nil || len(got) != 1 || got[0].URL != u0 {
		t.Fatalf("Discover over https: %v, %v", got, err)
	}
	other := newTestCA(t, "other")
	_, err = ipc.Discover(ctxTimeout(t, 5*time.Second), ipc.DiscoverConfig{Addr: addr, Secret: "disco", TLS: ipc.ClientTLS{CAFile: other.file}})
	if !errors.Is(err, ipc.ErrTLS) {
		t.Fatalf("Discover with an unknown CA: %v, want ErrTLS", err)
	}
}
