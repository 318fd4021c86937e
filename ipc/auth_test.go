package ipc_test

import (
	"flag"
	"net"
	"net/http"
	"runtime"
	"testing"
	"time"

	"github.com/ipcord/ipcord/internal/leaktest"
	"github.com/ipcord/ipcord/internal/wsproto"
	"github.com/ipcord/ipcord/ipc"
)

var wrongSecretPeers = flag.Int("wrong-secret-peers", 300, "peers TestWrongSecretPeersAreNotHeld opens (the security page's figure uses 2000)")

// Peers with a wrong secret on the main port, on both id-less dialects,
// get their 403 and lose the connection: the server holds none of them
// once they have their answer, though none of them closes its side.
func TestWrongSecretPeersAreNotHeld(t *testing.T) {
	leaktest.Check(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ll := &watchListener{Listener: ln}
	srv := &ipc.Server{Router: dialectRouter(t, nil), Secret: secret}
	u := serveOn(t, srv, ll)

	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	n := *wrongSecretPeers
	frames := []string{
		`{"endpoint": "hello", "data": {}, "headers": {"Authorization": "wrong"}}`,
		`{"endpoint": "hello", "secret": "wrong", "kwargs": {}}`,
	}
	peers := make([]*rawClient, n)
	for i := range n {
		peers[i] = plainDial(t, u, http.Header{"ID": {"victim"}})
		peers[i].send(frames[i%2])
	}
	for i, pc := range peers {
		m, err := pc.next(10 * time.Second)
		if err != nil || m.Op != wsproto.OpText {
			t.Fatalf("peer %d: want its 403, got %v %v", i, m.Op, err)
		}
	}
	peak := ll.live.Load()
	start := time.Now()
	waitFor(t, 15*time.Second, "the server to drop every peer without the secret", func() bool { return ll.live.Load() == 0 })
	var after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&after)
	t.Logf("%d wrong-secret peers: %d held after their 403, 0 after %v; heap %d → %d KiB",
		n, peak, time.Since(start).Round(time.Millisecond), before.HeapAlloc>>10, after.HeapAlloc>>10)
}

// A better-ipc peer with a wrong secret and a connected client's ID does
// not disconnect that client: the ID is taken over only by a request that
// carries the secret.
func TestBetterIPCWrongSecretCannotEvict(t *testing.T) {
	leaktest.Check(t)
	_, u, _ := dialectServer(t, nil)
	victim := plainDial(t, u, http.Header{"ID": {"dash"}})
	hello := func(pc *rawClient, secret string) wsproto.Message {
		pc.send(`{"endpoint": "hello", "secret": "` + secret + `", "kwargs": {}}`)
		m, err := pc.next(5 * time.Second)
		if err != nil {
			t.Fatalf("hello with %q: %v", secret, err)
		}
		return m
	}
	if m := hello(victim, secret); m.Op != wsproto.OpText {
		t.Fatalf("victim's call: %v", m.Op)
	}
	attacker := plainDial(t, u, http.Header{"ID": {"dash"}})
	if m := hello(attacker, "wrong"); m.Op != wsproto.OpText {
		t.Fatalf("attacker got %v, want its 403", m.Op)
	}
	if m := hello(victim, secret); m.Op != wsproto.OpText {
		t.Fatalf("the victim was disconnected by a peer without the secret: %v %d", m.Op, m.CloseCode)
	}
	attacker.expectClose(int(wsproto.ClosePolicyViolation))
}

// The same holds on the discovery port, where better-ipc's multicast
// calls arrive.
func TestMulticastWrongSecretClosed(t *testing.T) {
	leaktest.Check(t)
	srv := &ipc.Server{Router: dialectRouter(t, nil), Secret: secret}
	startServer(t, srv)
	d := &ipc.Discovery{}
	if err := d.Add(srv); err != nil {
		t.Fatal(err)
	}
	du := startDiscovery(t, d)
	pc := plainDial(t, "ws://"+du, nil)
	pc.send(`{"endpoint": "hello", "secret": "wrong", "kwargs": {}}`)
	if m, err := pc.next(5 * time.Second); err != nil || m.Op != wsproto.OpText {
		t.Fatalf("want the 403, got %v %v", m.Op, err)
	}
	pc.expectClose(int(wsproto.ClosePolicyViolation))
}
