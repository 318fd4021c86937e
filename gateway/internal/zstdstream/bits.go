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
	r.off, r.used, r.val = refill(r.in, r.off, r.used, r.val)
}

// refill is backReader.refill on the reader's fields, for hot loops that
// hold them in local variables (registers) rather than in a struct.
func refill(in []byte, off int, used uint, val uint64) (int, uint, uint64) {
	if off >= 8 {
		off -= int(used >> 3)
		return off, used & 7, binary.LittleEndian.Uint64(in[off : off+8])
	}
	return refillStart(in, off, used, val)
}

// refillStart is refill near the stream's start.
func refillStart(in []byte, off int, used uint, val uint64) (int, uint, uint64) {
	if off == 0 {
		return off, used, val
	}
	k := min(int(used>>3), off)
	off -= k
	return off, used - uint(k)<<3, binary.LittleEndian.Uint64(in[off:])
}

// get reads n bits, n ≤ 32; up to 57 bits are readable after a refill.
// The shifts are masked to spare the compiler's code for shifts of 64 or
// more: in a valid stream used is below 64 whenever n > 0 (there are bits
// left to read), and for n = 0 the two right shifts make 64; in a corrupt
// one the bits read are garbage, and finished or overflow tells.
func (r *backReader) get(n uint8) uint32 {
	v := r.val << (r.used & 63) >> 1 >> ((63 - n) & 63)
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
