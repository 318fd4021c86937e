//go:build linux && race

package ipc

import "syscall"

// Under the race detector, reads and writes go through package syscall:
// it tells the detector that what one goroutine wrote before a write to a
// socket happens before what another does after reading it (the two ends
// of a test in one process rely on that), which a raw system call would
// not. The rest of rawSock (polling, deadlines, errors) is the same.
func sysRead(fd uintptr, p []byte) (int, error) {
	n, err := syscall.Read(int(fd), p)
	return max(n, 0), err
}

func sysWrite(fd uintptr, p []byte) (int, error) {
	n, err := syscall.Write(int(fd), p)
	return max(n, 0), err
}
