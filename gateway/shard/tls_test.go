package shard_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"io"
	"math/big"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ipcord/ipcord/gateway/shard"
	"github.com/ipcord/ipcord/internal/leaktest"
	"github.com/ipcord/ipcord/internal/wsproto"
)

// tlsProxy terminates TLS on 127.0.0.1 and forwards to target, as a TLS
// front of the fake gateway. It returns the wss URL and a client config
// trusting its certificate.
func tlsProxy(t *testing.T, target string) (string, *tls.Config) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), DNSNames: []string{"gateway.test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{
		Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}},
	})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			mu.Lock()
			conns = append(conns, c, up)
			mu.Unlock()
			wg.Add(2)
			go func() { defer wg.Done(); io.Copy(up, c); up.Close() }()
			go func() { defer wg.Done(); io.Copy(c, up); c.Close() }()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return "wss://" + ln.Addr().String(), &tls.Config{RootCAs: pool, ServerName: "gateway.test"}
}

func TestShardOverTLS(t *testing.T) {
	leaktest.Check(t)
	g := startGateway(t, 150*time.Millisecond, nil)
	url, tc := tlsProxy(t, strings.TrimPrefix(g.URL(), "ws://"))
	e := startShard(t, g, func(c *shard.Config) {
		c.Gateway.URL = url
		c.TLS = tc
	})
	e.waitReady(t)
	e.dispatch(10)
	e.waitCaughtUp(t, 2*time.Second)
	// Events of every size, some larger than a TLS record and the reader's
	// buffer, some smaller than the small read a quiet TLS reader waits
	// with, in bursts and one at a time.
	for i, size := range []int{1, 300, 511, 512, 513, 5000, 16 << 10, 70 << 10, 3} {
		g.Dispatch(0, "MESSAGE_CREATE", map[string]any{"content": strings.Repeat("x", size)})
		if i%3 == 0 {
			e.waitCaughtUp(t, 2*time.Second)
		}
	}
	e.dispatch(200)
	e.waitCaughtUp(t, 5*time.Second)
	checkSeqs(t, e.rec.snapshot())
	if ci := g.Connections(); len(ci) != 1 {
		t.Fatalf("%d connections", len(ci))
	}
}

// rawServer upgrades every connection, writes greet (WebSocket frames)
// and then reads until the client goes, counting connections.
func rawServer(t *testing.T, conns *atomic.Int32, greet []byte) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key, err := wsproto.CheckRequest(r)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		nc, _, err := wsproto.Hijack(w)
		if err != nil {
			return
		}
		defer nc.Close()
		conns.Add(1)
		nc.Write(append(wsproto.AppendResponse(nil, key, "", "", nil), greet...))
		nc.SetReadDeadline(time.Now().Add(5 * time.Second))
		io.Copy(io.Discard, nc)
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return "ws://" + ln.Addr().String()
}

// A server that says HELLO and never answers IDENTIFY: after ReadyTimeout
// the identify counts as failed (the slot is released) and the shard tries
// again on a new connection.
func TestReadyTimeout(t *testing.T) {
	leaktest.Check(t)
	var conns atomic.Int32
	url := rawServer(t, &conns, wsproto.AppendFrame(nil, wsproto.Server, wsproto.OpText, true, false, [4]byte{},
		[]byte(`{"op":10,"d":{"heartbeat_interval":1000},"s":null,"t":null}`)))
	s, err := shard.New(shard.Config{
		Gateway:      gatewayConfig(url),
		ReadyTimeout: 30 * time.Millisecond,
		Backoff:      shard.Backoff{Base: 10 * time.Millisecond, Max: 20 * time.Millisecond, Min: time.Millisecond},
		// A slot never released would hold the bucket for 10 s.
		Identify: &shard.LocalLimiter{Interval: time.Millisecond, Timeout: 10 * time.Second},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := ctxT(t, 5*time.Second)
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	poll(t, 3*time.Second, "three IDENTIFYs", func() bool { return s.Status().Identifies >= 3 })
	if st := s.Status(); st.LastError == nil || !strings.Contains(st.LastError.Error(), "READY") || conns.Load() < 3 {
		t.Fatalf("status %+v after %d connections", st, conns.Load())
	}
	if err := s.Close(ctx, false); err != nil {
		t.Fatal(err)
	}
	<-done
}

// A server that upgrades and then says nothing: the shard gives up on
// HELLO after HelloTimeout and tries again, backing off.
func TestHelloTimeout(t *testing.T) {
	leaktest.Check(t)
	var conns atomic.Int32
	url := rawServer(t, &conns, nil)
	rec := newRecorder()
	s, err := shard.New(shard.Config{
		Gateway:      gatewayConfig(url),
		Handler:      rec.handle,
		HelloTimeout: 30 * time.Millisecond,
		Backoff:      shard.Backoff{Base: 10 * time.Millisecond, Max: 20 * time.Millisecond, Min: time.Millisecond},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := ctxT(t, 5*time.Second)
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	poll(t, 3*time.Second, "three connection attempts", func() bool { return conns.Load() >= 3 })
	if st := s.Status(); st.Reconnects < 2 || st.LastError == nil || !strings.Contains(st.LastError.Error(), "HELLO") {
		t.Fatalf("status %+v", st)
	}
	if err := s.Close(ctx, false); err != nil {
		t.Fatal(err)
	}
	<-done
}
