package ipc

import (
	"io"
	"net"
	"time"
)

// defaultBusyPoll is how long a read polls an empty socket before it
// parks (Linux, sock_spin_linux.go): Linux's own default for how long an
// idle virtual CPU polls before it halts.
const defaultBusyPoll = 200 * time.Microsecond

// sock is how a connection reads and writes its socket: the net.Conn
// itself, or on Linux, for a plain TCP or Unix socket, a rawSock
// (sock_linux.go).
type sock interface {
	io.Reader
	io.Writer
}

// pollHint is a sock that polls before parking (rawSock), told by its
// reader before a read whether a message is expected soon: one is when a
// call waits for its reply or the peer has been sending requests; a
// client's read loop between calls expects none (a ping, a rare request),
// and polling for it would only burn the poll.
type pollHint interface{ expectSoon(bool) }

// opError wraps err from op on nc as net.Conn's own Read and Write do, so
// errors read the same whichever way the socket is used. An error that
// already is a *net.OpError (RawConn's, as "raw-read") gives its cause.
func opError(nc net.Conn, op string, err error) error {
	if oe, ok := err.(*net.OpError); ok {
		err = oe.Err
	}
	return &net.OpError{Op: op, Net: nc.LocalAddr().Network(), Source: nc.LocalAddr(), Addr: nc.RemoteAddr(), Err: err}
}
