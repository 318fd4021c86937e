package shard

import (
	"net"
	"sync"
)

// readBufSize is the socket read size: large enough for a burst of
// dispatches per read.
const readBufSize = 16 << 10

// readBufs are the read buffers of every shard in the process: a shard
// holds one only from the moment its socket has bytes to read until the
// loop has taken them, so an idle shard holds none.
var readBufs = sync.Pool{New: func() any { return new([readBufSize]byte) }}

// chunk is one Read's result, handed from the reader goroutine to the
// loop; the reader returns buf to readBufs once the loop has acked.
type chunk struct {
	buf *[readBufSize]byte
	n   int
	err error
}

// bytes returns what the Read read.
func (c chunk) bytes() []byte {
	if c.buf == nil {
		return nil
	}
	return c.buf[:c.n]
}

// release gives the buffer back.
func (c chunk) release() {
	if c.buf != nil {
		readBufs.Put(c.buf)
	}
}

// readConn is one net.Conn.Read into a pooled buffer; a failed Read that
// read nothing gives the buffer back at once.
func readConn(nc net.Conn) (*[readBufSize]byte, int, error) {
	buf := readBufs.Get().(*[readBufSize]byte)
	n, err := nc.Read(buf[:])
	if n == 0 && err != nil {
		readBufs.Put(buf)
		return nil, 0, err
	}
	return buf, n, err
}

// reader reads nc on its own goroutine, one Read at a time: after handing
// a chunk over it waits for ack, so the loop controls when the socket is
// read (and can stop reading while the event queue is full). On a plain
// TCP connection it takes a buffer only when bytes are there (see read).
type reader struct {
	nc     net.Conn
	chunks chan chunk
	ack    chan struct{}
	quit   chan struct{}
	done   chan struct{}
}

func startReader(nc net.Conn) *reader {
	r := &reader{
		nc:     nc,
		chunks: make(chan chunk), ack: make(chan struct{}, 1),
		quit: make(chan struct{}), done: make(chan struct{}),
	}
	go r.run()
	return r
}

func (r *reader) run() {
	defer close(r.done)
	for {
		buf, n, err := read(r.nc)
		c := chunk{buf, n, err}
		select {
		case r.chunks <- c:
		case <-r.quit:
			c.release()
			return
		}
		// The loop acks once it has taken the bytes; after an error it
		// never does, and the connection ends (quit).
		select {
		case <-r.ack:
		case <-r.quit:
		}
		// Given back here, on the goroutine that took it, so it stays
		// in this P's part of the pool.
		c.release()
		if err != nil {
			return
		}
		select {
		case <-r.quit:
			return
		default:
		}
	}
}

// stop closes the connection and waits for the goroutine to end.
func (r *reader) stop() {
	close(r.quit)
	r.nc.Close()
	<-r.done
}
