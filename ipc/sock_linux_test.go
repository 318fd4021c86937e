package ipc

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/ipcord/ipcord/internal/leaktest"
)

// tcpPair returns both ends of a loopback TCP connection.
func tcpPair(t *testing.T) (a, b *net.TCPConn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	d, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	acc := <-accepted
	if acc == nil {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { d.Close(); acc.Close() })
	return d.(*net.TCPConn), acc.(*net.TCPConn)
}

// A plain TCP or Unix socket is read and written raw; anything else (a
// TLS connection, a wrapper) as it is.
func TestSockIsRawForPlainSockets(t *testing.T) {
	a, _ := tcpPair(t)
	if _, ok := newSock(a, defaultBusyPoll).(*rawSock); !ok {
		t.Errorf("newSock(*net.TCPConn) = %T, want *rawSock", newSock(a, defaultBusyPoll))
	}
	u1, u2, err := unixPair()
	if err != nil {
		t.Fatal(err)
	}
	defer u1.Close()
	defer u2.Close()
	if _, ok := newSock(u1, defaultBusyPoll).(*rawSock); !ok {
		t.Errorf("newSock(*net.UnixConn) = %T, want *rawSock", newSock(u1, defaultBusyPoll))
	}
	type wrapped struct{ net.Conn }
	w := wrapped{a}
	if s := newSock(w, defaultBusyPoll); s != sock(w) {
		t.Errorf("newSock(wrapper) = %T, want the wrapper itself", s)
	}
}

func unixPair() (*net.UnixConn, *net.UnixConn, error) {
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	if err != nil {
		return nil, nil, err
	}
	var cs [2]*net.UnixConn
	for i, fd := range fds {
		f := os.NewFile(uintptr(fd), "socketpair")
		c, err := net.FileConn(f)
		f.Close()
		if err != nil {
			return nil, nil, err
		}
		cs[i] = c.(*net.UnixConn)
	}
	return cs[0], cs[1], nil
}

// Bytes of every size cross intact both ways, those over rawMax (written
// through net.Conn, read rawMax at a time) included, and a read waits for
// bytes that are not there yet.
func TestSockCarriesEverySize(t *testing.T) {
	leaktest.Check(t)
	a, b := tcpPair(t)
	sa, sb := newSock(a, defaultBusyPoll), newSock(b, defaultBusyPoll)
	for _, n := range []int{1, 100, rawMax - 1, rawMax, rawMax + 1, 3 << 20} {
		msg := bytes.Repeat([]byte{byte(n)}, n)
		msg[0], msg[n-1] = 'a', 'z'
		done := make(chan error, 1)
		go func() {
			time.Sleep(time.Millisecond) // the read below usually waits
			w, err := sa.Write(msg)
			if err == nil && w != n {
				err = io.ErrShortWrite
			}
			done <- err
		}()
		got := make([]byte, 0, n)
		buf := make([]byte, 1<<20)
		for len(got) < n {
			r, err := sb.Read(buf)
			if err != nil {
				t.Fatalf("%d bytes: read after %d: %v", n, len(got), err)
			}
			if r > rawMax {
				t.Fatalf("one read returned %d bytes, over rawMax", r)
			}
			got = append(got, buf[:r]...)
		}
		if err := <-done; err != nil {
			t.Fatalf("%d bytes: write: %v", n, err)
		}
		if !bytes.Equal(got, msg) {
			t.Fatalf("%d bytes: what arrived differs", n)
		}
	}
}

// The errors are net.Conn's: io.EOF once the peer closed, a deadline's
// os.ErrDeadlineExceeded (with what was written so far), net.ErrClosed
// after Close, the system's error otherwise; wrapped in *net.OpError.
func TestSockErrorsAreNetConns(t *testing.T) {
	leaktest.Check(t)
	buf := make([]byte, 64)

	a, b := tcpPair(t)
	sa := newSock(a, defaultBusyPoll)
	b.Close()
	if n, err := sa.Read(buf); n != 0 || err != io.EOF {
		t.Errorf("read after the peer closed = %d, %v; want io.EOF", n, err)
	}

	a, b = tcpPair(t)
	sa = newSock(a, defaultBusyPoll)
	a.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	if _, err := sa.Read(buf); !errors.Is(err, os.ErrDeadlineExceeded) || !isOp(err, "read") {
		t.Errorf("read past the deadline: %v; want a read *net.OpError matching os.ErrDeadlineExceeded", err)
	}
	a.SetReadDeadline(time.Time{})
	// Nobody reads b: writes fill the socket's buffers, then wait for
	// room until the deadline.
	a.SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
	chunk := make([]byte, rawMax)
	var wrote int
	var err error
	for err == nil && wrote < 256<<20 {
		var n int
		n, err = sa.Write(chunk)
		wrote += n
	}
	if !errors.Is(err, os.ErrDeadlineExceeded) || !isOp(err, "write") {
		t.Errorf("write to a peer that does not read, after %d bytes: %v; want a write *net.OpError matching os.ErrDeadlineExceeded", wrote, err)
	}

	a, b = tcpPair(t)
	sa = newSock(a, defaultBusyPoll)
	readErr := make(chan error, 1)
	go func() {
		_, err := sa.Read(buf)
		readErr <- err
	}()
	time.Sleep(10 * time.Millisecond) // usually parked by now; either way Close ends it
	a.Close()
	if err := <-readErr; !errors.Is(err, net.ErrClosed) || !isOp(err, "read") {
		t.Errorf("read ended by Close: %v; want a read *net.OpError matching net.ErrClosed", err)
	}
	if _, err := sa.Write([]byte("x")); !errors.Is(err, net.ErrClosed) || !isOp(err, "write") {
		t.Errorf("write after Close: %v; want a write *net.OpError matching net.ErrClosed", err)
	}

	// A reset (the peer closed with unread bytes, and linger 0) is the
	// system's error.
	a, b = tcpPair(t)
	sa = newSock(a, defaultBusyPoll)
	b.SetLinger(0)
	b.Close()
	var rerr error
	for deadline := time.Now().Add(5 * time.Second); rerr == nil && time.Now().Before(deadline); {
		_, rerr = sa.Write([]byte("x"))
		if rerr == nil {
			_, rerr = sa.Read(buf)
		}
	}
	if !errors.Is(rerr, syscall.ECONNRESET) && !errors.Is(rerr, syscall.EPIPE) {
		t.Errorf("after the peer reset: %v; want ECONNRESET or EPIPE", rerr)
	}
	var se *os.SyscallError
	if !errors.As(rerr, &se) {
		t.Errorf("after the peer reset: %T; want an *os.SyscallError inside", rerr)
	}
}

func isOp(err error, op string) bool {
	var oe *net.OpError
	return errors.As(err, &oe) && oe.Op == op && oe.Source != nil && oe.Addr != nil
}
