package zstdstream

import (
	"encoding/binary"
	"errors"
	"math/bits"
)

// maxHuffBits is the longest Huffman code zstd allows.
const maxHuffBits = 11

// huffTable decodes literals: indexed by the next log bits of a stream,
// an entry holds the symbol (high byte) and its code's length (low byte,
// so that the shift by it, on the decoding's critical path, needs one
// instruction less).
type huffTable struct {
	cells [1 << maxHuffBits]uint16
	log   uint8

	// pairs decodes two symbols per lookup when both codes fit in log
	// bits, for large literal sections; allocated at the first.
	pairs *[1 << maxHuffBits]uint32
}

// buildPairs fills h.pairs from h.cells: for each index, the symbol its
// top bits give and, if the next code also lies within the log bits, that
// one too. An entry holds the symbols in its two low bytes, the bits they
// take in the third, and how many there are in the fourth.
func (h *huffTable) buildPairs() {
	if h.pairs == nil {
		h.pairs = new([1 << maxHuffBits]uint32)
	}
	log := uint(h.log)
	mask := 1<<log - 1
	pairs := h.pairs[:1<<log]
	for i := range pairs {
		e1 := h.cells[i]
		n1 := uint(e1 & 63)
		e2 := h.cells[(i<<n1)&mask]
		n2 := uint(e2 & 63)
		if n1+n2 <= log {
			pairs[i] = uint32(e1>>8) | uint32(e2>>8)<<8 | uint32(n1+n2)<<16 | 2<<24
		} else {
			pairs[i] = uint32(e1>>8) | uint32(n1)<<16 | 1<<24
		}
	}
}

// read reads a Huffman tree description (RFC 8878, 4.2.1) and builds the
// table. It returns the bytes the description took.
func (h *huffTable) read(src []byte) (int, error) {
	if len(src) == 0 {
		return 0, errorf("missing Huffman tree description")
	}
	var w [256]uint8
	n := 0
	used := 0
	if hb := int(src[0]); hb >= 128 {
		n = hb - 127
		used = 1 + (n+1)/2
		if used > len(src) {
			return 0, errorf("truncated Huffman weights")
		}
		for i := 0; i < n; i++ {
			b := src[1+i/2]
			if i&1 == 0 {
				b >>= 4
			}
			w[i] = b & 15
		}
	} else {
		used = 1 + hb
		if hb == 0 || used > len(src) {
			return 0, errorf("truncated Huffman weights")
		}
		var err error
		if n, err = fseWeights(&w, src[1:used]); err != nil {
			return 0, err
		}
	}
	// The last symbol's weight is what completes the sum to a power of 2.
	// rank[x] counts the cells of the codes of weight x.
	// Two counts, for even and odd symbols, make two independent chains.
	var rank, odd [16]int
	i := 0
	for ; i+1 < n; i += 2 {
		rank[w[i]&15]++
		odd[w[i+1]&15]++
	}
	if i < n {
		rank[w[i]&15]++
	}
	rank[0] = 0
	sum := 0
	for x := 1; x < 16; x++ {
		rank[x] = (rank[x] + odd[x]) << x
		if x > maxHuffBits && rank[x] != 0 {
			return 0, errorf("Huffman weight %d", x)
		}
		sum += rank[x] >> 1
	}
	if sum == 0 || n >= 256 {
		return 0, errorf("bad Huffman weights")
	}
	log := bits.Len(uint(sum))
	if log > maxHuffBits {
		return 0, errorf("Huffman codes over %d bits", maxHuffBits)
	}
	left := 1<<log - sum
	if left&(left-1) != 0 {
		return 0, errorf("Huffman weights do not complete a tree")
	}
	last := bits.Len(uint(left))
	w[n] = uint8(last)
	rank[last] += 1 << last
	n++
	// Codes are handed out in order of weight, then of symbol, the
	// lightest (longest) first; a code of weight x fills 1<<(x-1) cells.
	pos := 0
	for x := 1; x <= log; x++ {
		c := rank[x] >> 1
		rank[x] = pos
		pos += c
	}
	cells := h.cells[:1<<log]
	for s, x := range w[:n] {
		if x == 0 {
			continue
		}
		e := uint16(s)<<8 | uint16(log+1-int(x))
		p := rank[x]
		end := p + 1<<(x-1)
		rank[x] = end
		c := cells[p:end]
		for len(c) >= 4 {
			c[0], c[1], c[2], c[3] = e, e, e, e
			c = c[4:]
		}
		for i := range c {
			c[i] = e
		}
	}
	h.log = uint8(log)
	return used, nil
}

// fseWeights decodes FSE-compressed Huffman weights: two states over one
// table, taking turns, until the stream runs out.
func fseWeights(w *[256]uint8, src []byte) (int, error) {
	var norm [256]int16
	nsym, log, hdr, err := readCounts(&norm, src, 15, 6)
	if err != nil {
		return 0, err
	}
	var cells [1 << 6]fseCell
	if err := buildFSE(cells[:], norm[:nsym], log); err != nil {
		return 0, err
	}
	var br backReader
	if err := br.init(src[hdr:]); err != nil {
		return 0, err
	}
	mask := uint32(1<<log - 1)
	s1 := br.get(uint8(log)) & mask
	s2 := br.get(uint8(log)) & mask
	// rem counts the bits left; the weights end when a state update reads
	// past the stream's start. Each update reads at most 6 bits, so a
	// refill every 8 updates keeps the reads within val. The reader's
	// fields are in locals (registers), as the states' chain runs through
	// them.
	rem := br.remaining()
	in, off, used, val := br.in, br.off, br.used, br.val
	n := 0
	for {
		if n > 252 {
			return 0, errorf("too many Huffman weights")
		}
		if n&7 == 0 {
			off, used, val = refill(in, off, used, val)
		}
		c := cells[s1]
		w[n] = c.sym
		s1 = (uint32(c.next) + uint32(val<<(used&63)>>1>>((63-c.nbits)&63))) & mask // as backReader.get
		used += uint(c.nbits)
		rem -= int(c.nbits)
		if rem < 0 {
			w[n+1] = cells[s2].sym
			return n + 2, nil
		}
		c = cells[s2]
		w[n+1] = c.sym
		s2 = (uint32(c.next) + uint32(val<<(used&63)>>1>>((63-c.nbits)&63))) & mask
		used += uint(c.nbits)
		rem -= int(c.nbits)
		if rem < 0 {
			w[n+2] = cells[s1].sym
			return n + 3, nil
		}
		n += 2
	}
}

// decode1 decodes len(out) literals from one stream.
func (h *huffTable) decode1(out, in []byte) error {
	var br backReader
	if err := br.init(in); err != nil {
		return err
	}
	off, used, val := br.off, br.used, br.val
	shift := (64 - uint(h.log)) & 63
	cells := &h.cells
	const m = 1<<maxHuffBits - 1
	// Four symbols (44 bits at most) per refill. bits holds the unread
	// bits at its top, so that the next symbol's lookup waits only on the
	// last one's shift.
	for len(out) >= 4 {
		off, used, val = refill(in, off, used, val)
		bits := val << (used & 63) // see backReader.get for the mask
		e0 := cells[bits>>shift&m]
		bits <<= e0 & 63
		e1 := cells[bits>>shift&m]
		bits <<= e1 & 63
		e2 := cells[bits>>shift&m]
		bits <<= e2 & 63
		e3 := cells[bits>>shift&m]
		used += uint(e0&63) + uint(e1&63) + uint(e2&63) + uint(e3&63)
		out[0], out[1], out[2], out[3] = byte(e0>>8), byte(e1>>8), byte(e2>>8), byte(e3>>8)
		out = out[4:]
	}
	off, used, val = refill(in, off, used, val)
	for i := range out {
		e := cells[val<<(used&63)>>shift&m]
		used += uint(e & 63)
		out[i] = byte(e >> 8)
	}
	br.off, br.used, br.val = off, used, val
	if !br.finished() {
		return errorf("Huffman stream not consumed exactly")
	}
	return nil
}

// decode4 decodes len(out) literals from four streams behind a jump
// table, interleaved so that the four dependency chains overlap.
func (h *huffTable) decode4(out, in []byte) error {
	if len(in) < 10 {
		return errorf("truncated Huffman jump table")
	}
	n1 := int(binary.LittleEndian.Uint16(in))
	n2 := int(binary.LittleEndian.Uint16(in[2:]))
	n3 := int(binary.LittleEndian.Uint16(in[4:]))
	in = in[6:]
	if n1+n2+n3 >= len(in) {
		return errorf("Huffman jump table past the literals")
	}
	seg := (len(out) + 3) / 4
	if 3*seg >= len(out) {
		return errorf("four Huffman streams for %d literals", len(out))
	}
	in0, in1, in2, in3 := in[:n1], in[n1:n1+n2], in[n1+n2:n1+n2+n3], in[n1+n2+n3:]
	var b0, b1, b2, b3 backReader
	if err := errors.Join(b0.init(in0), b1.init(in1), b2.init(in2), b3.init(in3)); err != nil {
		return err
	}
	o0, o1, o2, o3 := out[:seg], out[seg:2*seg], out[2*seg:3*seg], out[3*seg:]
	shift := (64 - uint(h.log)) & 63
	cells := &h.cells
	const m = 1<<maxHuffBits - 1
	// The last stream is the shortest: while it has 4 symbols to go, all
	// do. Two symbols per stream and refill keeps the four readers'
	// state in registers.
	if len(out) >= 4<<h.log {
		// Enough literals to pay for a pair table.
		h.buildPairs()
		i0, i1, i2, i3 := h.pairs4(&b0, &b1, &b2, &b3, o0, o1, o2, o3, in0, in1, in2, in3)
		return errors.Join(h.tail(&b0, o0, i0), h.tail(&b1, o1, i1), h.tail(&b2, o2, i2), h.tail(&b3, o3, i3))
	}
	off0, u0, v0 := b0.off, b0.used, b0.val
	off1, u1, v1 := b1.off, b1.used, b1.val
	off2, u2, v2 := b2.off, b2.used, b2.val
	off3, u3, v3 := b3.off, b3.used, b3.val
	i := 0
	for ; i+2 <= len(o3); i += 2 {
		off0, u0, v0 = refill(in0, off0, u0, v0)
		off1, u1, v1 = refill(in1, off1, u1, v1)
		off2, u2, v2 = refill(in2, off2, u2, v2)
		off3, u3, v3 = refill(in3, off3, u3, v3)
		x0, x1, x2, x3 := v0<<(u0&63), v1<<(u1&63), v2<<(u2&63), v3<<(u3&63)
		for k := range 2 {
			e0 := cells[x0>>shift&m]
			e1 := cells[x1>>shift&m]
			e2 := cells[x2>>shift&m]
			e3 := cells[x3>>shift&m]
			x0 <<= e0 & 63
			x1 <<= e1 & 63
			x2 <<= e2 & 63
			x3 <<= e3 & 63
			u0 += uint(e0 & 63)
			u1 += uint(e1 & 63)
			u2 += uint(e2 & 63)
			u3 += uint(e3 & 63)
			o0[i+k] = byte(e0 >> 8)
			o1[i+k] = byte(e1 >> 8)
			o2[i+k] = byte(e2 >> 8)
			o3[i+k] = byte(e3 >> 8)
		}
	}
	b0.off, b0.used, b0.val = off0, u0, v0
	b1.off, b1.used, b1.val = off1, u1, v1
	b2.off, b2.used, b2.val = off2, u2, v2
	b3.off, b3.used, b3.val = off3, u3, v3
	if err := errors.Join(h.tail(&b0, o0, i), h.tail(&b1, o1, i), h.tail(&b2, o2, i), h.tail(&b3, o3, i)); err != nil {
		return err
	}
	return nil
}

// tail decodes o[i:], the end of one of four streams.
func (h *huffTable) tail(b *backReader, o []byte, i int) error {
	shift := (64 - uint(h.log)) & 63
	for j := i; j < len(o); j++ {
		if (j-i)&3 == 0 {
			b.refill()
		}
		e := h.cells[b.val<<(b.used&63)>>shift&(1<<maxHuffBits-1)]
		o[j] = byte(e >> 8)
		b.used += uint(e & 63)
	}
	if !b.finished() {
		return errorf("Huffman stream not consumed exactly")
	}
	return nil
}

// pairs4 is decode4's loop with the pair table, while every stream has 5
// or more symbols to go (two lookups make up to 4, and a lookup writes 2
// bytes); it returns where each stream stopped.
func (h *huffTable) pairs4(b0, b1, b2, b3 *backReader, o0, o1, o2, o3, in0, in1, in2, in3 []byte) (i0, i1, i2, i3 int) {
	shift := (64 - uint(h.log)) & 63
	pairs := h.pairs
	const m = 1<<maxHuffBits - 1
	off0, u0, v0 := b0.off, b0.used, b0.val
	off1, u1, v1 := b1.off, b1.used, b1.val
	off2, u2, v2 := b2.off, b2.used, b2.val
	off3, u3, v3 := b3.off, b3.used, b3.val
	for i0+5 <= len(o0) && i1+5 <= len(o1) && i2+5 <= len(o2) && i3+5 <= len(o3) {
		off0, u0, v0 = refill(in0, off0, u0, v0)
		off1, u1, v1 = refill(in1, off1, u1, v1)
		off2, u2, v2 = refill(in2, off2, u2, v2)
		off3, u3, v3 = refill(in3, off3, u3, v3)
		x0, x1, x2, x3 := v0<<(u0&63), v1<<(u1&63), v2<<(u2&63), v3<<(u3&63)
		for range 2 {
			e0 := pairs[x0>>shift&m]
			e1 := pairs[x1>>shift&m]
			e2 := pairs[x2>>shift&m]
			e3 := pairs[x3>>shift&m]
			x0 <<= e0 >> 16 & 63
			x1 <<= e1 >> 16 & 63
			x2 <<= e2 >> 16 & 63
			x3 <<= e3 >> 16 & 63
			u0 += uint(e0 >> 16 & 63)
			u1 += uint(e1 >> 16 & 63)
			u2 += uint(e2 >> 16 & 63)
			u3 += uint(e3 >> 16 & 63)
			binary.LittleEndian.PutUint16(o0[i0:i0+2], uint16(e0))
			binary.LittleEndian.PutUint16(o1[i1:i1+2], uint16(e1))
			binary.LittleEndian.PutUint16(o2[i2:i2+2], uint16(e2))
			binary.LittleEndian.PutUint16(o3[i3:i3+2], uint16(e3))
			i0 += int(e0 >> 24)
			i1 += int(e1 >> 24)
			i2 += int(e2 >> 24)
			i3 += int(e3 >> 24)
		}
	}
	b0.off, b0.used, b0.val = off0, u0, v0
	b1.off, b1.used, b1.val = off1, u1, v1
	b2.off, b2.used, b2.val = off2, u2, v2
	b3.off, b3.used, b3.val = off3, u3, v3
	return
}
