//go:build !unix

package shard

import "net"

// read reads nc with net.Conn.Read: without a way to wait for readable
// bytes here, the buffer is held while the Read waits.
func read(nc net.Conn) (*[readBufSize]byte, int, error) { return readConn(nc) }
