package gateway

import (
	"bytes"
	"fmt"
	"io"
	"sync"

	"github.com/klauspost/compress/flate"
)

// zlibSuffix ends every zlib-stream message: the empty stored block that a
// Z_SYNC_FLUSH writes.
var zlibSuffix = []byte{0x00, 0x00, 0xff, 0xff}

// finalBlock is an empty, final stored block. Appended after a message's
// sync flush, it makes a reader that stopped on a block boundary end with a
// clean io.EOF, so a clean end and a truncated block can be told apart.
var finalBlock = []byte{0x01, 0x00, 0x00, 0xff, 0xff}

const windowSize = 32 << 10

// keepCap is the largest buffer an inflater keeps once the message that
// needed it is gone: a bot with many shards should not hold a 10 MB
// GUILD_CREATE's worth of memory per shard for the life of the connection.
const keepCap = 1 << 20

// flateReaders recycles DEFLATE decompressors among the process's
// connections: each is reset onto every message anyway (with the window
// as its dictionary), so a connection needs one only while inflating.
var flateReaders sync.Pool

// zlibInflater inflates a zlib-stream: one deflate stream for the whole
// connection, each message ending with a sync flush.
//
// Go's flate readers keep the first error they see, and reaching the end of
// the bytes received so far is an error to them. So each message is read by
// a reader reset onto that message alone, with the previous 32 KiB of
// output (the deflate window) as its dictionary. That costs one window copy
// per message and needs no goroutine, no blocking reader and no fork of
// flate. klauspost/compress/flate inflates about 1.8× faster than
// compress/flate here when its input is a *bytes.Reader (measured on the
// session fixture), so the message is copied into one, with the final
// block after it.
type zlibInflater struct {
	fr      io.ReadCloser
	in      []byte // the message, then finalBlock
	src     bytes.Reader
	pending []byte // a message split across WebSocket messages
	out     []byte // recent output: the window, then the current message
	spill   spill  // the part of a large message past keepCap
	started bool   // zlib header consumed
	max     int
}

func newZlibInflater(max int) *zlibInflater {
	return &zlibInflater{max: max}
}

// reset prepares for a new connection.
func (z *zlibInflater) reset() {
	z.pending = z.pending[:0]
	z.out = z.out[:0]
	z.started = false
}

// inflate takes one WebSocket message and returns the decompressed gateway
// message, or ok false while the zlib message is incomplete. The result is
// valid until the next call.
func (z *zlibInflater) inflate(p []byte) (msg []byte, ok bool, err error) {
	if !bytes.HasSuffix(p, zlibSuffix) || len(z.pending) > 0 {
		if len(z.pending)+len(p) > z.max {
			return nil, false, fmt.Errorf("%w: compressed message over %d bytes", ErrMessageTooBig, z.max)
		}
		z.pending = append(z.pending, p...)
		if !bytes.HasSuffix(z.pending, zlibSuffix) {
			return nil, false, nil
		}
		p = z.pending
		z.pending = z.pending[:0] // p stays valid: nothing appends until we return
	}
	if !z.started {
		if len(p) < 2 || p[0]&0x0f != 8 || p[0]>>4 > 7 || (uint16(p[0])<<8|uint16(p[1]))%31 != 0 || p[1]&0x20 != 0 {
			return nil, false, fmt.Errorf("%w: bad zlib header", ErrDecompress)
		}
		p = p[2:]
		z.started = true
	}

	// Keep the window, drop older output; slide rarely so the copy is
	// cheap, and let go of a buffer a huge message grew.
	if cap(z.out) > keepCap {
		z.out = append(make([]byte, 0, 8*windowSize), z.out[len(z.out)-min(len(z.out), windowSize):]...)
		z.in = nil
	} else if len(z.out) > 8*windowSize {
		n := copy(z.out, z.out[len(z.out)-windowSize:])
		z.out = z.out[:n]
	}
	start := len(z.out)
	dict := z.out[max(0, start-windowSize):]
	z.in = append(append(z.in[:0], p...), finalBlock...)
	z.src.Reset(z.in)
	if z.fr == nil {
		z.fr, _ = flateReaders.Get().(io.ReadCloser)
	}
	if z.fr == nil {
		z.fr = flate.NewReaderDict(&z.src, dict)
	} else if err := z.fr.(flate.Resetter).Reset(&z.src, dict); err != nil {
		return nil, false, fmt.Errorf("%w: %v", ErrDecompress, err)
	}
	// Output goes to z.out up to keepCap, then to chunks (see spill): a
	// bomb stops at the limit, holding about the limit.
	for {
		n, err := z.fr.Read(z.spill.space(&z.out, 1))
		z.spill.wrote(&z.out, n)
		if z.spill.len(z.out, start) > z.max {
			z.spill.reset()
			z.out = z.out[:start]
			return nil, false, fmt.Errorf("%w: message over %d bytes", ErrMessageTooBig, z.max)
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			z.spill.reset()
			return nil, false, fmt.Errorf("%w: %v", ErrDecompress, err)
		}
	}
	start = z.spill.join(&z.out, start, windowSize)
	if z.src.Len() != 0 {
		// The stream ended (a final block) before the message did.
		return nil, false, fmt.Errorf("%w: stream ended inside a message", ErrDecompress)
	}
	return z.out[start:], true, nil
}

// compact keeps only the window (the last 32 KiB of output, which the next
// message may refer to) and a message split across WebSocket messages;
// the decompressor goes back to the pool.
func (z *zlibInflater) compact() {
	if z.fr != nil {
		flateReaders.Put(z.fr)
		z.fr = nil
	}
	z.in = nil
	if len(z.pending) == 0 {
		z.pending = nil
	}
	if w := min(len(z.out), windowSize); cap(z.out) > w {
		z.out = append(make([]byte, 0, w), z.out[len(z.out)-w:]...)
	}
}
