//go:build !unix

package shard

import "net"

// readable returns at once: without a way to wait for readable bytes
// here, the Read waits, holding its buffer.
func readable(net.Conn) {}
