//go:build unix

package shard

import (
	"net"
	"syscall"
)

// readable blocks until nc has bytes to read (or is closed or failed),
// without a buffer: it peeks at one byte with MSG_PEEK, and lets the
// runtime's poller park the goroutine while there is none. Connections
// that are not plain TCP (TLS, a custom Dial's) return at once, and their
// Read waits instead, holding its buffer.
func readable(nc net.Conn) {
	tc, ok := nc.(*net.TCPConn)
	if !ok {
		return
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return
	}
	var b [1]byte
	rc.Read(func(fd uintptr) bool {
		for {
			_, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
			if err != syscall.EINTR {
				return err != syscall.EAGAIN
			}
		}
	})
}
