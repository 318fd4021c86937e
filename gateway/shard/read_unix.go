//go:build unix

package shard

import (
	"io"
	"net"
	"os"
	"syscall"
)

// read reads nc into a buffer taken from readBufs only once bytes are
// there: on a plain TCP connection it tries the read itself, under the
// runtime's poller, with a buffer it puts back when nothing came (EAGAIN),
// so a goroutine parked on an idle socket holds none, and a read costs
// the one system call net.Conn.Read would. Other connections (TLS: see
// reader.readTLS; a custom Dial's) are read with net.Conn.Read.
func read(nc net.Conn) (*[readBufSize]byte, int, error) {
	tc, ok := nc.(*net.TCPConn)
	if !ok {
		return readConn(nc)
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return readConn(nc)
	}
	var (
		buf  *[readBufSize]byte
		n    int
		rerr error
	)
	err = rc.Read(func(fd uintptr) bool {
		b := readBufs.Get().(*[readBufSize]byte)
		for {
			n, rerr = syscall.Read(int(fd), b[:])
			if rerr != syscall.EINTR {
				break
			}
		}
		if rerr == syscall.EAGAIN {
			readBufs.Put(b)
			return false
		}
		buf = b
		return true
	})
	if err != nil {
		// The connection was closed (by stop) while waiting.
		return nil, 0, err
	}
	switch {
	case rerr != nil:
		readBufs.Put(buf)
		return nil, 0, os.NewSyscallError("read", rerr)
	case n == 0:
		readBufs.Put(buf)
		return nil, 0, io.EOF
	}
	return buf, n, nil
}
