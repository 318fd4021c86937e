package zstdstream

import "encoding/binary"

// backReader reads a zstd bitstream backward: from its last byte, whose
// highest set bit marks where the stream's bits end, toward its first.
// val holds 64 bits of the stream; used counts the bits of val already
// consumed, from the top. Reading past the stream's start yields zero bits
// and is caught by finished or overflow, so the hot loops need no check
// per read.
type backReader struct {
	in   []byte
	off  int    // val holds in[off:off+8]
	val  uint64 // bits not yet read are its top 64-used bits
	used uint
	low  uint // bits at the bottom of val that precede the stream (short streams)
}

// init starts r at the end of in.
func (r *backReader) init(in []byte) error {
	if len(in) == 0 {
		return errorf("empty bitstream")
	}
	last := in[len(in)-1]
	if last == 0 {
		return errorf("bitstream without its end marker")
	}
	r.in = in
	if len(in) >= 8 {
		r.off = len(in) - 8
		r.val = binary.LittleEndian.Uint64(in[r.off:])
		r.low = 0
	} else {
		r.off = 0
		var v uint64
		for i := len(in) - 1; i >= 0; i-- {
			v = v<<8 | uint64(in[i])
		}
		r.low = uint(8 * (8 - len(in)))
		r.val = v << r.low
	}
	// Skip the zero padding and the marker bit.
	r.used = uint(leadingZeros8(last)) + 1
	return nil
}

func leadingZeros8(b byte) int {
	n := 0
	for b&0x80 == 0 {
		b <<= 1
		n++
	}
	return n
}

// refill loads the next bytes, so that at least 57 bits are readable, or
// all that are left. Callers read at most 64 bits between refills, so
// used is at most 64 here.
func (r *backReader) refill() {
	if r.off >= 8 {
		r.off -= int(r.used >> 3)
		r.used &= 7
		r.val = binary.LittleEndian.Uint64(r.in[r.off:])
		return
	}
	r.refillStart()
}

// refillStart is refill near the stream's start.
func (r *backReader) refillStart() {
	if r.off == 0 {
		return
	}
	k := int(r.used >> 3)
	if k > r.off {
		k = r.off
	}
	r.off -= k
	r.used -= uint(k) << 3
	r.val = binary.LittleEndian.Uint64(r.in[r.off:])
}

// get reads n bits, n ≤ 32; up to 57 bits are readable after a refill.
func (r *backReader) get(n uint8) uint32 {
	v := r.val << r.used >> 1 >> (63 - n)
	r.used += uint(n)
	return uint32(v)
}

// remaining returns the number of bits left; negative once the reads have
// run past the start.
func (r *backReader) remaining() int {
	return r.off*8 + 64 - int(r.used) - int(r.low)
}

// finished reports whether the stream has been read exactly to its start.
func (r *backReader) finished() bool { return r.remaining() == 0 }

// overflow reports whether reads went past the stream's start.
func (r *backReader) overflow() bool { return r.remaining() < 0 }
