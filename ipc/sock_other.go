//go:build !linux

package ipc

import (
	"net"
	"time"
)

func newSock(nc net.Conn, _ time.Duration) sock { return nc }
