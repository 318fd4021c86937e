package shard

import (
	"crypto/tls"
	"net"
	"sync"
	"time"
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
	at  time.Time // when the Read returned: the events it completes were received then
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

	// TLS only (see readTLS).
	small *[smallRead]byte
	busy  bool
}

// smallRead is what a reader of a TLS connection waits with while the
// connection is quiet.
const smallRead = 512

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
		var c chunk
		if t, ok := r.nc.(*tls.Conn); ok {
			c.buf, c.n, c.err = r.readTLS(t)
		} else {
			c.buf, c.n, c.err = read(r.nc)
		}
		c.at = time.Now()
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
		if c.err != nil {
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

// readTLS reads a TLS connection, which holds bytes of its own (the rest
// of a record, records read along with it), so the socket's readiness
// says nothing and every wait must be a Read. While the connection is
// quiet the Read waits with a small buffer of the reader's; the bytes go
// to a pooled buffer, and after a small read that came back full (more is
// likely there) reads take a pooled one until one comes back short.
func (r *reader) readTLS(t *tls.Conn) (*[readBufSize]byte, int, error) {
	if r.busy {
		buf, n, err := readConn(t)
		r.busy = n == readBufSize
		return buf, n, err
	}
	if r.small == nil {
		r.small = new([smallRead]byte)
	}
	n, err := t.Read(r.small[:])
	if n == 0 {
		return nil, 0, err
	}
	r.busy = n == smallRead
	buf := readBufs.Get().(*[readBufSize]byte)
	copy(buf[:], r.small[:n])
	return buf, n, err
}
