package wsproto

import (
	"errors"
	"io"

	"github.com/ipcord/ipcord/internal/twopart"
	"github.com/klauspost/compress/flate"
)

// deflateTail is the end of a sync flush (an empty stored block), which
// RFC 7692 has the sender strip from every message and the receiver put
// back before inflating.
var deflateTail = [4]byte{0x00, 0x00, 0xff, 0xff}

// Deflater compresses whole messages for permessage-deflate without
// context takeover: each message is compressed on its own. The zero value
// compresses at flate.BestSpeed. A Deflater holds a few hundred KiB of
// compressor state, so reuse one (from a pool) rather than making one per
// message; it is not safe for concurrent use.
type Deflater struct {
	// Level is a compress/flate level from 1 (BestSpeed) to 9; 0 means
	// BestSpeed, which suits messages sent as soon as they are ready.
	Level int

	w   *flate.Writer
	out appendWriter
}

// appendWriter is an io.Writer appending to a slice the caller owns, so the
// compressed bytes land in the caller's buffer without a copy.
type appendWriter struct{ b []byte }

func (a *appendWriter) Write(p []byte) (int, error) {
	a.b = append(a.b, p...)
	return len(p), nil
}

// Append appends the compressed form of msg to dst, ready to be sent as the
// payload of a message with RSV1 set, and returns the extended slice.
func (d *Deflater) Append(dst, msg []byte) []byte {
	d.out.b = dst
	if d.w == nil {
		level := d.Level
		if level == 0 {
			level = flate.BestSpeed
		}
		w, err := flate.NewWriter(&d.out, level)
		if err != nil { // a level out of range
			w, _ = flate.NewWriter(&d.out, flate.BestSpeed)
		}
		d.w = w
	} else {
		d.w.Reset(&d.out)
	}
	start := len(dst)
	// Writes to an appendWriter cannot fail, so neither can these.
	_, _ = d.w.Write(msg)
	_ = d.w.Flush()
	out := d.out.b
	d.out.b = nil
	if n := len(out); n-start >= 4 && [4]byte(out[n-4:]) == deflateTail {
		out = out[:n-4]
	}
	return out
}

// Inflater decompresses messages received with RSV1 under
// permessage-deflate without context takeover. The zero value is ready;
// reuse one (from a pool), it holds a 32 KiB window. It is not safe for
// concurrent use.
type Inflater struct {
	r   io.ReadCloser
	src twopart.Reader // the message, then the sync-flush tail
}

// Append appends the decompressed form of msg to dst and returns the
// extended slice. It stops as soon as the message would exceed limit bytes
// (0 means DefaultMaxMessage), so a small message inflating to gigabytes (a
// "zip bomb") costs at most limit bytes: that is a *ProtocolError with close
// code 1009, matching ErrMessageTooBig. Data that is not valid DEFLATE is a
// *ProtocolError with code 1007. dst is returned as it was on error.
func (f *Inflater) Append(dst, msg []byte, limit int) ([]byte, error) {
	if limit <= 0 {
		limit = DefaultMaxMessage
	}
	f.src.Reset(msg, deflateTail[:])
	if f.r == nil {
		f.r = flate.NewReader(&f.src)
	} else if err := f.r.(flate.Resetter).Reset(&f.src, nil); err != nil {
		return dst, protocolErr(CloseInternalError, "inflate: %v", err)
	}
	defer f.src.Reset(nil, nil) // keep no reference to msg
	start := len(dst)
	for {
		if len(dst) == cap(dst) {
			// Grow by doubling, but never past the limit plus one byte:
			// that byte is how an oversized message is noticed.
			grow := min(max(cap(dst)-start, 4<<10), limit+1-(len(dst)-start))
			if grow <= 0 {
				return dst[:start], &ProtocolError{Code: CloseMessageTooBig,
					Reason: "decompressed message exceeds the limit of " + uitoa(uint64(limit))}
			}
			dst = append(dst, make([]byte, grow)...)[:len(dst)]
		}
		n, err := f.r.Read(dst[len(dst):cap(dst)])
		dst = dst[:len(dst)+n]
		if len(dst)-start > limit {
			return dst[:start], &ProtocolError{Code: CloseMessageTooBig,
				Reason: "decompressed message exceeds the limit of " + uitoa(uint64(limit))}
		}
		switch {
		case err == nil:
		case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
			// EOF: the sender set BFINAL. Unexpected EOF: the normal end,
			// the input stops after the sync flush, between blocks.
			return dst, nil
		default:
			return dst[:start], protocolErr(CloseInvalidPayload, "inflate: %v", err)
		}
	}
}
