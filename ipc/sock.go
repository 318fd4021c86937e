package ipc

import (
	"io"
	"net"
)

// sock is how a connection reads and writes its socket: the net.Conn
// itself, or on Linux, for a plain TCP or Unix socket, a rawSock
// (sock_linux.go).
type sock interface {
	io.Reader
	io.Writer
}

// opError wraps err from op on nc as net.Conn's own Read and Write do, so
// errors read the same whichever way the socket is used. An error that
// already is a *net.OpError (RawConn's, as "raw-read") gives its cause.
func opError(nc net.Conn, op string, err error) error {
	if oe, ok := err.(*net.OpError); ok {
		err = oe.Err
	}
	return &net.OpError{Op: op, Net: nc.LocalAddr().Network(), Source: nc.LocalAddr(), Addr: nc.RemoteAddr(), Err: err}
}
