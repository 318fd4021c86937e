package ipc

import (
	"context"
	"errors"
	"net"
	"os"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/ipcord/ipcord/internal/leaktest"
)

// waitPolling waits until some reader of the process polls.
func waitPolling(t *testing.T) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !pollHeld.Load(); {
		if time.Now().After(deadline) {
			t.Fatal("no reader started polling")
		}
		runtime.Gosched()
	}
}

// A message that arrives while the read polls is taken without parking,
// and keeps the connection polling.
func TestBusyPollTakesWhatArrivesWhilePolling(t *testing.T) {
	leaktest.Check(t)
	for _, procs := range []int{1, 2} {
		prev := runtime.GOMAXPROCS(procs)
		a, b := tcpPair(t)
		sa := newSock(a, time.Minute).(*rawSock)
		sb := newSock(b, -1)
		wrote := make(chan error, 1)
		go func() {
			// With one P this runs only because the poll gives it away.
			waitPolling(t)
			_, err := sb.Write([]byte("hello"))
			wrote <- err
		}()
		buf := make([]byte, 16)
		n, err := sa.Read(buf)
		runtime.GOMAXPROCS(prev)
		if err != nil || string(buf[:n]) != "hello" {
			t.Fatalf("GOMAXPROCS=%d: read %q, %v", procs, buf[:n], err)
		}
		if err := <-wrote; err != nil {
			t.Fatal(err)
		}
		if sa.spin.parked || sa.spin.miss != 0 || sa.spin.skip != 0 {
			t.Errorf("GOMAXPROCS=%d: parked %v, miss %d, skip %d; want a poll that found the message", procs, sa.spin.parked, sa.spin.miss, sa.spin.skip)
		}
		if pollHeld.Load() {
			t.Errorf("GOMAXPROCS=%d: the process's polling is still held after the read", procs)
		}
	}
}

// A poll that ends with nothing sends the next 1, 3, 7, … reads straight
// to the poller; a poll that finds data ends that.
func TestBusyPollBacksOff(t *testing.T) {
	leaktest.Check(t)
	a, b := tcpPair(t)
	sa := newSock(a, 100*time.Microsecond).(*rawSock)
	buf := make([]byte, 16)
	// idle reads nothing until a deadline; it reports whether the read
	// polled (and missed) before parking.
	idle := func() (polled bool) {
		t.Helper()
		before := sa.spin.miss
		a.SetReadDeadline(time.Now().Add(5 * time.Millisecond))
		if _, err := sa.Read(buf); !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("idle read: %v, want a deadline error", err)
		}
		if !sa.spin.parked {
			t.Fatal("an idle read returned without parking")
		}
		return sa.spin.miss != before
	}
	var skipped []int
	for miss := 1; miss <= 4; miss++ {
		if !idle() {
			t.Fatalf("miss %d: the read did not poll", miss)
		}
		if int(sa.spin.miss) != miss {
			t.Fatalf("after %d polls that found nothing, miss = %d", miss, sa.spin.miss)
		}
		n := 0
		for sa.spin.skip > 0 {
			if idle() {
				t.Fatalf("after miss %d, read %d polled", miss, n+1)
			}
			n++
		}
		skipped = append(skipped, n)
	}
	if want := []int{1, 3, 7, 15}; !slices.Equal(skipped, want) {
		t.Errorf("reads parked at once after 1, 2, 3, 4 misses: %v, want %v", skipped, want)
	}
	a.SetReadDeadline(time.Time{})

	// Data already there: no poll, and the backoff stays.
	b.Write([]byte("y"))
	for deadline := time.Now().Add(10 * time.Second); ; {
		if n, err := sa.Read(buf); n > 0 || err != nil || time.Now().After(deadline) {
			break
		}
	}
	if sa.spin.miss != 4 {
		t.Errorf("a read that found data changed miss from 4 to %d", sa.spin.miss)
	}

	// A poll that finds data (the backoff has run out) ends the backoff.
	sa.spin.limit = time.Minute
	go func() {
		waitPolling(t)
		b.Write([]byte("z"))
	}()
	if n, err := sa.Read(buf); err != nil || string(buf[:n]) != "z" {
		t.Fatalf("read %q, %v", buf[:n], err)
	}
	if sa.spin.parked || sa.spin.miss != 0 || sa.spin.skip != 0 {
		t.Errorf("after a poll that found data: parked %v, miss %d, skip %d; want 0s", sa.spin.parked, sa.spin.miss, sa.spin.skip)
	}
}

// One reader of a process polls at a time; a negative BusyPoll never
// polls; and a deadline that passes during a poll ends the read with
// net.Conn's error when the poll ends, and lets the process poll again.
func TestBusyPollBounds(t *testing.T) {
	leaktest.Check(t)
	a, _ := tcpPair(t)
	c, _ := tcpPair(t)
	const limit = 300 * time.Millisecond
	sa := newSock(a, limit).(*rawSock)
	sc := newSock(c, limit).(*rawSock)
	first := make(chan error, 1)
	start := time.Now()
	go func() {
		_, err := sa.Read(make([]byte, 8))
		first <- err
	}()
	waitPolling(t)
	a.SetReadDeadline(time.Now())
	// A second reader parks at once while the first polls.
	c.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	if _, err := sc.Read(make([]byte, 8)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("second reader: %v, want a deadline error", err)
	}
	if !sc.spin.parked || sc.spin.miss != 0 {
		t.Errorf("second reader: parked %v, miss %d; want parked at once, no miss", sc.spin.parked, sc.spin.miss)
	}
	if err := <-first; !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("polling reader past its deadline: %v", err)
	}
	if took := time.Since(start); took < limit {
		t.Errorf("the polling read returned after %v, before its poll ended (%v): the deadline interrupts polls after all; fix the docs", took, limit)
	}
	if pollHeld.Load() {
		t.Error("the process's polling is still held after the polling read ended")
	}

	d, _ := tcpPair(t)
	sd := newSock(d, -1).(*rawSock)
	d.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	if _, err := sd.Read(make([]byte, 8)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("BusyPoll -1: %v", err)
	}
	if !sd.spin.parked || sd.spin.miss != 0 {
		t.Errorf("BusyPoll -1: parked %v, miss %d; want parked at once", sd.spin.parked, sd.spin.miss)
	}
}

// A reader that expects no message soon (a client's read loop between
// calls) parks at once, leaving the backoff as it was.
func TestBusyPollQuietReaderParks(t *testing.T) {
	leaktest.Check(t)
	a, _ := tcpPair(t)
	sa := newSock(a, time.Minute).(*rawSock)
	sa.expectSoon(false)
	a.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	if _, err := sa.Read(make([]byte, 8)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("quiet read: %v", err)
	}
	if !sa.spin.parked || sa.spin.miss != 0 || sa.spin.skip != 0 {
		t.Errorf("quiet read: parked %v, miss %d, skip %d; want parked at once, backoff untouched", sa.spin.parked, sa.spin.miss, sa.spin.skip)
	}
}

// A call expects its reply soon, and polls for it; the client's read loop,
// once it has the reading back between calls, expects nothing and does
// not poll.
func TestBusyPollOnlyWhereAMessageIsExpected(t *testing.T) {
	leaktest.Check(t)
	r := NewRouter()
	sawPoll := make(chan bool, 1)
	err := r.Handle("wait", HandlerFunc(func(ctx context.Context, _ *Request) (any, error) {
		// The client is calling: its read polls (the server never does).
		deadline := time.Now().Add(10 * time.Second)
		for !pollHeld.Load() && time.Now().Before(deadline) {
			runtime.Gosched()
		}
		sawPoll <- pollHeld.Load()
		return 1, nil
	}))
	if err == nil {
		err = r.Handle("now", HandlerFunc(func(context.Context, *Request) (any, error) { return 1, nil }))
	}
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &Server{Router: r, Secret: "s", BusyPoll: -1}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		<-served
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := Dial(ctx, ClientConfig{URL: "ws://" + ln.Addr().String(), Secret: "s", Identifier: "t", BusyPoll: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s, ok := c.connected().sock.(*rawSock)
	if !ok {
		t.Fatalf("client socket is %T, want *rawSock", c.connected().sock)
	}
	quiet := func(what string) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); !s.spin.quiet.Load(); time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%s: the client's read loop never stopped expecting a message", what)
			}
		}
	}
	quiet("after Dial")
	// The read loop reads the first reply (it was reading when the call
	// came), then leaves the reading to the next call.
	if err := c.Call(ctx, "now", nil, nil); err != nil {
		t.Fatal(err)
	}
	if err := c.Call(ctx, "wait", nil, nil); err != nil {
		t.Fatal(err)
	}
	if !<-sawPoll {
		t.Error("a call that read its own reply did not poll for it")
	}
	quiet("after the calls")
}
