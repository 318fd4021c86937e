package discordtest

import (
	"io"
	"net"

	"github.com/ipcord/ipcord/internal/wsproto"
)

// bigPart is the size from which an event's bytes are written from where
// they are (one more iovec) rather than copied behind their frame header.
const bigPart = 2048

// frames is one batch of a connection's frames, written with one writev:
// buf holds headers and small parts; an event's large data (its JSON, or
// its compressed bytes) is referenced, never copied.
type frames struct {
	buf   []byte
	start int       // where in buf the run not yet in parts began
	parts []segment // in order: runs of buf and large slices
	tmp   []byte    // a message built before its header
	pre   []byte    // a dispatch's envelope
	iov   net.Buffers
}

// segment is buf[off:end], or big when big is not nil.
type segment struct {
	off, end int
	big      []byte
}

func (f *frames) reset() {
	f.buf, f.start = f.buf[:0], 0
	clear(f.parts)
	f.parts = f.parts[:0]
}

// add appends b: copied when small, referenced when large.
func (f *frames) add(b []byte) {
	if len(b) < bigPart {
		f.buf = append(f.buf, b...)
		return
	}
	if len(f.buf) > f.start {
		f.parts = append(f.parts, segment{off: f.start, end: len(f.buf)})
		f.start = len(f.buf)
	}
	f.parts = append(f.parts, segment{big: b})
}

// dispatch appends one dispatch frame: the envelope with seq rendered
// here, the event's data or its cached compressed bytes referenced.
func (f *frames) dispatch(comp compressor, ev *Event, seq int64) {
	switch z := comp.(type) {
	case nil:
		f.buf = wsproto.AppendHeader(f.buf, wsproto.Server, wsproto.OpText, true, false, [4]byte{}, ev.payloadLen(seq))
		f.buf = ev.appendPrefix(f.buf, seq)
		f.add(ev.data)
		f.buf = append(f.buf, ev.tail...)
	case *zlibStream:
		// The envelope as a stored block, then the event's own blocks.
		f.pre = ev.appendPrefix(f.pre[:0], seq)
		msg := appendStored(z.start(f.tmp[:0]), f.pre)
		f.tmp = msg[:0]
		body := ev.zlib()
		f.buf = wsproto.AppendHeader(f.buf, wsproto.Server, wsproto.OpBinary, true, false, [4]byte{}, len(msg)+len(body))
		f.buf = append(f.buf, msg...)
		f.add(body)
	case *zstdStream:
		// The envelope and the padding as a raw block, the reset of the
		// repeat offsets, then the event's own blocks.
		f.pre = append(ev.appendPrefix(f.pre[:0], seq), zstdPad...)
		msg := appendRawBlock(z.start(f.tmp[:0]), f.pre)
		msg = append(msg, zstdRepeatReset...)
		f.tmp = msg[:0]
		body := ev.zstd()
		f.buf = wsproto.AppendHeader(f.buf, wsproto.Server, wsproto.OpBinary, true, false, [4]byte{}, len(msg)+len(body))
		f.buf = append(f.buf, msg...)
		f.add(body)
	}
}

var closingBrace = []byte("}")

// compress returns parts as one compressed message, valid until the next
// call.
func (f *frames) compress(comp compressor, parts ...[]byte) []byte {
	msg := comp.message(f.tmp[:0], parts...)
	f.tmp = msg[:0]
	return msg
}

// writeTo writes the batch.
func (f *frames) writeTo(w io.Writer) error {
	if len(f.buf) > f.start || len(f.parts) == 0 {
		f.parts = append(f.parts, segment{off: f.start, end: len(f.buf)})
		f.start = len(f.buf)
	}
	f.iov = f.iov[:0]
	for _, p := range f.parts {
		if p.big != nil {
			f.iov = append(f.iov, p.big)
		} else {
			f.iov = append(f.iov, f.buf[p.off:p.end])
		}
	}
	iov := f.iov // WriteTo consumes its receiver
	_, err := iov.WriteTo(w)
	clear(f.iov[:cap(f.iov)])
	if cap(f.buf) > 1<<20 {
		f.buf = nil
	}
	return err
}
