package ipc

import (
	"io"
	"net"
	"os"
	"syscall"
	"time"
)

// Reading and writing a socket without waking the runtime's monitor.
//
// Go makes every system call of net.Conn's Read and Write through
// entersyscall, which wakes the runtime's monitor thread (sysmon) when it
// sleeps because the process was idle; woken so, it looks again every
// 20 µs for as long as the process stays busy. A process that answers one
// call at a time goes idle between calls, so every call paid for that
// wake-up and the ticks after it, on each side: with the two processes on
// two CPUs, 2 more context switches per call than the 1 a call needs, 2.3
// more system calls (futex, nanosleep, sched_yield), and a quarter of each
// side's CPU time (BENCHMARKS.md, "ipc (native protocol)").
// A read or write of a non-blocking socket never blocks, so it needs none
// of what entersyscall prepares for (handing the P to another thread): a
// rawSock makes the same system calls raw, through the socket's
// syscall.RawConn, which still parks the goroutine in the runtime's poller
// when the socket has nothing to read or no room, and still honours
// deadlines and Close. Sysmon still wakes at the process's next timer
// (a connection keeps a few) or its next other system call, and from then
// on watches as usual while the process is busy.
//
// A raw call keeps its P busy until it returns, so one is bounded to
// rawMax bytes: a longer write goes through net.Conn, a read asks for at
// most that much.
const rawMax = 256 << 10

// rawSock reads and writes a TCP or Unix socket with raw system calls.
// One goroutine at a time reads and one writes (the connection's reader
// and writer), so each direction's state is its own.
type rawSock struct {
	nc net.Conn
	rc syscall.RawConn

	readFn, writeFn func(fd uintptr) bool // made once: a closure per call would allocate

	rbuf []byte
	rn   int
	rerr error
	spin spinner
	wbuf []byte
	wn   int
	werr error
}

// newSock returns a rawSock for a plain TCP or Unix socket, else nc. (A
// TLS connection, or a net.Conn wrapping a socket, is used as it is.)
func newSock(nc net.Conn, busyPoll time.Duration) sock {
	var sc syscall.Conn
	switch c := nc.(type) {
	case *net.TCPConn:
		sc = c
	case *net.UnixConn:
		sc = c
	default:
		return nc
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nc
	}
	s := &rawSock{nc: nc, rc: rc}
	s.readFn, s.writeFn = s.read, s.write
	s.spin.limit = busyPoll
	return s
}

func (s *rawSock) expectSoon(soon bool) { s.spin.quiet.Store(!soon) }

// Read reads what the socket holds, up to rawMax bytes, waiting for
// something when it holds nothing; it returns io.EOF when the peer has
// closed its side.
func (s *rawSock) Read(b []byte) (int, error) {
	if len(b) == 0 {
		return s.nc.Read(b)
	}
	s.rbuf, s.rn, s.rerr = b[:min(len(b), rawMax)], 0, nil
	s.spin.begin()
	err := s.rc.Read(s.readFn)
	s.spin.done()
	s.rbuf = nil
	switch {
	case err != nil:
		return 0, opError(s.nc, "read", err)
	case s.rerr != nil:
		return 0, opError(s.nc, "read", s.rerr)
	case s.rn == 0:
		return 0, io.EOF
	}
	return s.rn, nil
}

// read is the RawConn callback of Read: false asks the poller to wait
// until the socket is readable.
func (s *rawSock) read(fd uintptr) bool {
	for {
		n, err := sysRead(fd, s.rbuf)
		switch err {
		case nil:
			s.rn = n
			s.spin.got()
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			if s.spin.empty() {
				continue
			}
			return false
		default:
			s.rerr = os.NewSyscallError("read", err)
		}
		return true
	}
}

// Write writes all of b, waiting for room as needed.
func (s *rawSock) Write(b []byte) (int, error) {
	if len(b) == 0 || len(b) > rawMax {
		return s.nc.Write(b)
	}
	s.wbuf, s.wn, s.werr = b, 0, nil
	err := s.rc.Write(s.writeFn)
	s.wbuf = nil
	switch {
	case err != nil:
		return s.wn, opError(s.nc, "write", err)
	case s.werr != nil:
		return s.wn, opError(s.nc, "write", s.werr)
	}
	return s.wn, nil
}

// write is the RawConn callback of Write: false asks the poller to wait
// until the socket has room.
func (s *rawSock) write(fd uintptr) bool {
	for s.wn < len(s.wbuf) {
		n, err := sysWrite(fd, s.wbuf[s.wn:])
		switch {
		case err == syscall.EINTR:
		case err == syscall.EAGAIN:
			return false
		case err != nil:
			s.werr = os.NewSyscallError("write", err)
			return true
		case n == 0:
			s.werr = io.ErrUnexpectedEOF // as os.File and net.Conn report it
			return true
		default:
			s.wn += n
		}
	}
	return true
}
