package ipc

import (
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/ipcord/ipcord/internal/wsproto"
)

// Writing: frames queued by any goroutine, combined into few syscalls.

// writeFrame queues one text frame and, when no write is in progress,
// writes everything queued. It reports nothing: a failed write fails the
// whole connection, and every waiter learns of it from done.
func (c *conn) writeFrame(payload []byte) bool {
	return c.write(wsproto.OpText, payload)
}

func (c *conn) writeControl(op wsproto.Opcode, payload []byte) {
	c.write(op, payload)
}

// write queues one frame; it reports false when the connection no longer
// takes frames, so the frame was certainly not sent. Data messages of at
// least the minimum size are compressed when compression was negotiated.
func (c *conn) write(op wsproto.Opcode, payload []byte) bool {
	if z := c.compress; z != nil && len(payload) >= z.minSize && !op.IsControl() {
		return c.writeCompressed(z, op, payload)
	}
	return c.queue(op, false, payload, false)
}

// writeHeld queues a frame of the read loop's without writing it: the
// loop writes what it holds before it next reads the socket (flushHeld),
// and anyone's write meanwhile takes it along.
func (c *conn) writeHeld(payload []byte) {
	if z := c.compress; z != nil && len(payload) >= z.minSize {
		c.writeFrame(payload)
		return
	}
	c.queue(wsproto.OpText, false, payload, true)
}

// flushHeld writes the frames writeHeld queued.
func (c *conn) flushHeld() {
	if c.held.Load() {
		c.wmu.Lock()
		c.flushLocked()
	}
}

// queue appends one frame to the write queue and flushes it, unless hold
// is set and no write is in progress.
func (c *conn) queue(op wsproto.Opcode, rsv1 bool, payload []byte, hold bool) bool {
	var key [4]byte
	if c.role == wsproto.Client {
		key = wsproto.MaskKey()
	}
	c.wmu.Lock()
	if c.wdone {
		c.wmu.Unlock()
		return false
	}
	if len(c.wbuf)+len(payload) > c.cfg.maxQueued() {
		c.wmu.Unlock()
		c.fail(errSlowPeer)
		return false
	}
	c.wbuf = wsproto.AppendFrame(c.wbuf, c.role, op, true, rsv1, key, payload)
	if hold && !c.writing {
		c.held.Store(true)
		c.wmu.Unlock()
		return true
	}
	c.flushLocked()
	return true
}

// flushLocked writes the queue until it is empty, unless another goroutine
// is already doing so. It is called with wmu held and releases it.
func (c *conn) flushLocked() {
	if c.writing {
		c.wmu.Unlock()
		return
	}
	c.writing = true
	c.held.Store(false) // written below with the rest
	if c.active.Load() > 1 {
		// Other calls are in flight on this connection: let goroutines
		// about to queue their frames do so first, so they share this
		// write instead of each making a syscall. Alone, write at once.
		c.wmu.Unlock()
		runtime.Gosched()
		c.wmu.Lock()
	}
	for len(c.wbuf) > 0 {
		buf := c.wbuf
		c.wbuf, c.spare = c.spare[:0], nil
		c.wmu.Unlock()
		c.refreshWriteDeadline()
		_, err := c.sock.Write(buf)
		c.wmu.Lock()
		if cap(buf) <= 256<<10 {
			c.spare = buf[:0] // keep one modest buffer; let a huge one go
		}
		if err != nil {
			c.stopWriting()
			c.wdone = true
			c.wmu.Unlock()
			c.fail(fmt.Errorf("%w: write: %w", ErrConnectionLost, err))
			return
		}
	}
	c.stopWriting()
	c.wmu.Unlock()
}

// stopWriting ends the writer's turn, with wmu held, and wakes a fail
// waiting for it to finish.
func (c *conn) stopWriting() {
	c.writing = false
	if c.flushed != nil {
		close(c.flushed)
		c.flushed = nil
	}
}

// closeGrace bounds how long fail lets a write in progress finish before
// closing the socket under it.
const closeGrace = time.Second

// refreshWriteDeadline keeps at least half of writeTimeout ahead of every
// write. Moving the socket's deadline costs a timer update in the runtime
// poller; doing it only when half the budget is gone saves that on nearly
// every write. Called with writing set, so one goroutine at a time.
func (c *conn) refreshWriteDeadline() {
	if c.cfg.writeTimeout <= 0 {
		return
	}
	now := time.Now()
	if c.wdeadline.Sub(now) >= c.cfg.writeTimeout/2 {
		return
	}
	c.wdeadline = now.Add(c.cfg.writeTimeout)
	c.nc.SetWriteDeadline(c.wdeadline)
}

// closeWith sends a close frame (best effort) and stops further writes.
func (c *conn) closeWith(code int, reason string) {
	var key [4]byte
	if c.role == wsproto.Client {
		key = wsproto.MaskKey()
	}
	c.wmu.Lock()
	if c.wdone {
		c.wmu.Unlock()
		return
	}
	c.wdone = true // nothing may follow the close frame
	c.wbuf = wsproto.AppendClose(c.wbuf, c.role, key, wsproto.CloseCode(code), reason)
	c.flushLocked()
}

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

func getBuf() *[]byte { return bufPool.Get().(*[]byte) }

func putBuf(b *[]byte) {
	if cap(*b) <= 64<<10 {
		bufPool.Put(b)
	}
}
