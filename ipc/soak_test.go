package ipc_test

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ipcord/ipcord/internal/leaktest"
	"github.com/ipcord/ipcord/internal/wsproto"
	"github.com/ipcord/ipcord/ipc"
)

var soakFor = flag.Duration("soak", 6*time.Second, "how long TestFaultSoak runs its faults")

// TestFaultSoak runs a real Server (in this process, over real sockets on
// 127.0.0.1) through faults while legitimate clients of every dialect call
// it throughout: random connects that say nothing or garbage, wrong
// secrets, duplicate request ids, readers that stop reading, and server
// restarts on the same address. Held: every legitimate call succeeds with
// the right result or fails with a typed error; at the end file
// descriptors, goroutines and heap are back to their baseline.
func TestFaultSoak(t *testing.T) {
	leaktest.Check(t)
	fdBefore := openFDs(t)
	heapBefore := heapInUse()

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	u := "ws://" + addr
	router := bigRouter(256 << 10)
	newServer := func() *ipc.Server {
		return &ipc.Server{Router: router, Secret: secret, HandshakeTimeout: 300 * time.Millisecond,
			WriteTimeout: 500 * time.Millisecond, MaxInFlight: 64, PingInterval: 200 * time.Millisecond}
	}
	var srvMu sync.Mutex
	srv := newServer()
	serveDone := make(chan error, 1)
	lls := []*watchListener{{Listener: ln}} // every listener, to count what the servers hold
	go func() { serveDone <- srv.Serve(lls[0]) }()
	held := func() (n int64) {
		srvMu.Lock()
		defer srvMu.Unlock()
		for _, l := range lls {
			n += l.live.Load()
		}
		return n
	}
	// Peers with a wrong secret keep their end open until the soak ends:
	// the servers must not keep theirs.
	var wrongMu sync.Mutex
	var wrong []net.Conn
	closeWrong := func() {
		wrongMu.Lock()
		defer wrongMu.Unlock()
		for _, nc := range wrong {
			nc.Close()
		}
		wrong = nil
	}
	defer closeWrong()

	stop := make(chan struct{})
	var wg sync.WaitGroup
	var ok, typed, slowest atomic.Int64
	var untyped sync.Map // error text → dialect, for the report
	var kinds sync.Map   // the typed failures seen, for the log

	// Legitimate clients of every dialect, calling throughout.
	for _, d := range []ipc.Dialect{ipc.Native, ipc.Native, ipc.ExtIPC, ipc.BetterIPC, ipc.Zonis} {
		c := dial(t, ipc.ClientConfig{URL: u, Dialect: d, MinBackoff: 10 * time.Millisecond, MaxBackoff: 100 * time.Millisecond})
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				ctx, cancel := context.WithTimeout(context.Background(), time.Second)
				want := fmt.Sprintf(`{"n":%d}`, i)
				var got map[string]int
				start := time.Now()
				err := c.Call(ctx, "echo", map[string]int{"n": i}, &got)
				cancel()
				// A call ends at its deadline, give or take the scheduling
				// of a loaded machine under the race detector: past 5 s it
				// hung (the client's own write timeout is 10 s).
				took := time.Since(start)
				if took > 5*time.Second {
					untyped.Store(fmt.Sprintf("a call with a 1 s deadline hung for %v", took), d)
				}
				for {
					m := slowest.Load()
					if int64(took) <= m || slowest.CompareAndSwap(m, int64(took)) {
						break
					}
				}
				switch {
				case err == nil && got["n"] == i:
					ok.Add(1)
				case err == nil:
					untyped.Store(fmt.Sprintf("wrong result %v for %s", got, want), d)
				case isTyped(err):
					typed.Add(1)
					kinds.Store(typedKind(err), true)
				default:
					untyped.Store(err.Error(), d)
				}
			}
		})
	}

	// The faults, each in its own loop until stop.
	fault := func(name string, f func(r *rand.Rand)) {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(rand.Uint64(), 0))
			for {
				select {
				case <-stop:
					return
				default:
				}
				f(r)
			}
		})
	}
	fault("random connects", func(r *rand.Rand) {
		nc, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			time.Sleep(10 * time.Millisecond)
			return
		}
		switch r.IntN(3) {
		case 0: // say nothing until the handshake timeout
		case 1:
			nc.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
		case 2:
			nc.Write([]byte("\x16\x03\x01 not http at all"))
		}
		time.Sleep(time.Duration(r.IntN(400)) * time.Millisecond)
		nc.Close()
	})
	fault("wrong secrets", func(r *rand.Rand) {
		frames := []string{
			`{"endpoint": "echo", "data": {}, "headers": {"Authorization": "wrong"}}`,
			`{"endpoint": "echo", "secret": "wrong", "kwargs": {}}`,
			`{"packet_id": "01", "type": "request", "data": {"identifier": "x", "type": "IDENTIFY", "data": {"secret_key": "wrong", "override_key": null}}}`,
		}
		pc, err := soakDial(addr, http.Header{"ID": {"victim"}}, "")
		if err != nil {
			time.Sleep(10 * time.Millisecond)
			return
		}
		pc.send(frames[r.IntN(len(frames))])
		pc.next(time.Second) // the refusal, then (unread) the close
		wrongMu.Lock()
		defer wrongMu.Unlock()
		if len(wrong) >= 300 {
			pc.nc.Close()
			time.Sleep(10 * time.Millisecond)
			return
		}
		wrong = append(wrong, pc.nc)
	})
	fault("duplicate ids", func(r *rand.Rand) {
		pc, err := soakDial(addr, http.Header{"Authorization": {"Bearer " + secret}}, ipc.Subprotocol)
		if err != nil {
			time.Sleep(10 * time.Millisecond)
			return
		}
		defer pc.nc.Close()
		pc.send(fmt.Sprintf(`{"t":"hello","v":1,"id":"dup-%d","routes":[]}`, r.Uint64()))
		for range 200 {
			pc.send(`{"t":"req","id":7,"route":"echo","args":{}}`)
		}
		time.Sleep(time.Duration(r.IntN(200)) * time.Millisecond)
	})
	fault("slow readers", func(r *rand.Rand) {
		pc, err := soakDial(addr, http.Header{"Authorization": {"Bearer " + secret}}, ipc.Subprotocol)
		if err != nil {
			time.Sleep(10 * time.Millisecond)
			return
		}
		defer pc.nc.Close()
		pc.send(fmt.Sprintf(`{"t":"hello","v":1,"id":"slow-%d","routes":[]}`, r.Uint64()))
		for i := range 64 { // 16 MiB of replies it never reads
			pc.send(fmt.Sprintf(`{"t":"req","id":%d,"route":"big"}`, i+1))
		}
		time.Sleep(time.Duration(300+r.IntN(700)) * time.Millisecond)
	})
	restarts := 0
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(time.Duration(700+rand.IntN(600)) * time.Millisecond):
			}
			srvMu.Lock()
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			srv.Shutdown(ctx)
			cancel()
			if err := <-serveDone; !errors.Is(err, ipc.ErrClosed) {
				t.Errorf("Serve returned %v", err)
			}
			nl, err := net.Listen("tcp", addr)
			for err != nil && strings.Contains(err.Error(), "address already in use") {
				time.Sleep(10 * time.Millisecond)
				nl, err = net.Listen("tcp", addr)
			}
			if err != nil {
				srvMu.Unlock()
				t.Errorf("listening again: %v", err)
				return
			}
			srv = newServer()
			ll := &watchListener{Listener: nl}
			lls = append(lls, ll)
			go func(s *ipc.Server) { serveDone <- s.Serve(ll) }(srv)
			restarts++
			srvMu.Unlock()
		}
	})

	time.Sleep(*soakFor)
	close(stop)
	wg.Wait()
	// The wrong-secret peers are still connected; the server has let go
	// of all of them, keeping only the five legitimate clients.
	wrongMu.Lock()
	nwrong := len(wrong)
	wrongMu.Unlock()
	waitFor(t, 5*time.Second, "the server to hold no wrong-secret peer", func() bool { return held() <= 5 })
	srvMu.Lock()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	srv.Shutdown(ctx)
	cancel()
	<-serveDone
	srvMu.Unlock()

	untyped.Range(func(k, v any) bool {
		t.Errorf("%v: untyped failure or wrong result: %v", v, k)
		return true
	})
	if ok.Load() == 0 || restarts == 0 {
		t.Fatalf("%d calls succeeded, %d restarts: the soak did not run", ok.Load(), restarts)
	}
	var seen []string
	kinds.Range(func(k, _ any) bool { seen = append(seen, k.(string)); return true })
	t.Logf("typed failures seen: %v; slowest call %v (deadline 1 s)", seen, time.Duration(slowest.Load()).Round(time.Millisecond))
	t.Logf("%v: %d calls succeeded, %d failed typed, %d restarts, %d wrong-secret peers still connected, none held by the server",
		*soakFor, ok.Load(), typed.Load(), restarts, nwrong)

	closeWrong()
	// Back to baseline. The clients close in t.Cleanup, after this; their
	// descriptors are counted in neither figure.
	waitFor(t, 10*time.Second, "descriptors back to baseline", func() bool { return openFDs(t) <= fdBefore+soakClientFDs })
	waitFor(t, 10*time.Second, "heap back to baseline", func() bool { return heapInUse() <= heapBefore+32<<20 })
}

// soakClientFDs is the descriptors the soak's five clients hold at the
// end: one connection each, plus slack for the multicast-less dialect
// clients' one pending reconnect.
const soakClientFDs = 10

// isTyped reports whether err is one a caller can branch on.
func isTyped(err error) bool {
	var ie *ipc.Error
	return errors.As(err, &ie) || errors.Is(err, ipc.ErrConnectionLost) || errors.Is(err, ipc.ErrNotConnected) ||
		errors.Is(err, ipc.ErrClosed) || errors.Is(err, context.DeadlineExceeded)
}

func typedKind(err error) string {
	var ie *ipc.Error
	switch {
	case errors.As(err, &ie):
		return ie.Code
	case errors.Is(err, ipc.ErrConnectionLost):
		return "connection lost"
	case errors.Is(err, ipc.ErrNotConnected):
		return "not connected"
	case errors.Is(err, ipc.ErrClosed):
		return "closed"
	}
	return "deadline"
}

func soakDial(addr string, header http.Header, proto string) (*rawClient, error) {
	nc, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return nil, err
	}
	req := &wsproto.Request{URL: &url.URL{Scheme: "ws", Host: addr, Path: "/"}, Key: wsproto.NewKey(), Header: header}
	if proto != "" {
		req.Subprotocols = []string{proto}
	}
	nc.Write(req.Append(nil))
	nc.SetReadDeadline(time.Now().Add(time.Second))
	var buf []byte
	chunk := make([]byte, 4096)
	for {
		n, err := nc.Read(chunk)
		buf = append(buf, chunk[:n]...)
		_, used, done, perr := wsproto.ParseResponse(buf, req)
		if perr != nil || err != nil && !done {
			nc.Close()
			return nil, fmt.Errorf("upgrade: %v %v", perr, err)
		}
		if done {
			rc := &rawClient{nc: nc, dec: wsproto.Decoder{Role: wsproto.Client, MaxMessage: 8 << 20}}
			rc.dec.Feed(buf[used:])
			return rc, nil
		}
	}
}

func openFDs(t *testing.T) int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatalf("counting descriptors: %v", err)
	}
	return len(ents)
}

func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}
