package zstdstream

import (
	"encoding/binary"
	"math/bits"
)

// maxHuffBits is the longest Huffman code zstd allows.
const maxHuffBits = 11

// huffTable decodes literals: indexed by the next log bits of a stream,
// an entry holds the symbol (low byte) and its code's length (high byte).
type huffTable struct {
	cells [1 << maxHuffBits]uint16
	log   uint8
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
	sum := 0
	for _, x := range w[:n] {
		if x > maxHuffBits {
			return 0, errorf("Huffman weight %d", x)
		}
		if x > 0 {
			sum += 1 << (x - 1)
		}
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
	w[n] = uint8(bits.Len(uint(left)))
	n++
	// Codes are handed out in order of weight, then of symbol, the
	// lightest (longest) first; a code of b bits fills 1<<(log-b) cells.
	var start [maxHuffBits + 2]int
	for _, x := range w[:n] {
		if x > 0 {
			start[x] += 1 << (x - 1)
		}
	}
	pos := 0
	for x := 1; x <= log; x++ {
		c := start[x]
		start[x] = pos
		pos += c
	}
	for s, x := range w[:n] {
		if x == 0 {
			continue
		}
		e := uint16(s) | uint16(log+1-int(x))<<8
		p := start[x]
		end := p + 1<<(x-1)
		for i := p; i < end; i++ {
			h.cells[i] = e
		}
		start[x] = end
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
	n := 0
	for {
		if n > 253 {
			return 0, errorf("too many Huffman weights")
		}
		c := cells[s1]
		w[n] = c.sym
		n++
		br.refill()
		s1 = (uint32(c.next) + br.get(c.nbits)) & mask
		if br.overflow() {
			w[n] = cells[s2].sym
			return n + 1, nil
		}
		c = cells[s2]
		w[n] = c.sym
		n++
		br.refill()
		s2 = (uint32(c.next) + br.get(c.nbits)) & mask
		if br.overflow() {
			w[n] = cells[s1].sym
			return n + 1, nil
		}
	}
}

// decode1 decodes len(out) literals from one stream.
func (h *huffTable) decode1(out, in []byte) error {
	var br backReader
	if err := br.init(in); err != nil {
		return err
	}
	shift := 64 - uint(h.log)
	cells := &h.cells
	i := 0
	for ; i+4 <= len(out); i += 4 {
		br.refill()
		for k := 0; k < 4; k++ {
			e := cells[(br.val<<br.used>>shift)&(1<<maxHuffBits-1)]
			out[i+k] = byte(e)
			br.used += uint(e >> 8)
		}
	}
	br.refill()
	for ; i < len(out); i++ {
		e := cells[(br.val<<br.used>>shift)&(1<<maxHuffBits-1)]
		out[i] = byte(e)
		br.used += uint(e >> 8)
	}
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
	var br [4]backReader
	ins := [4][]byte{in[:n1], in[n1 : n1+n2], in[n1+n2 : n1+n2+n3], in[n1+n2+n3:]}
	for k := range br {
		if err := br[k].init(ins[k]); err != nil {
			return err
		}
	}
	o0, o1, o2, o3 := out[:seg], out[seg:2*seg], out[2*seg:3*seg], out[3*seg:]
	shift := 64 - uint(h.log)
	cells := &h.cells
	const m = 1<<maxHuffBits - 1
	// The last stream is the shortest: while it has 4 symbols to go, all do.
	i := 0
	if len(o3) >= 4 {
		b0, b1, b2, b3 := &br[0], &br[1], &br[2], &br[3]
		o0, o1, o2 := o0[:len(o3)], o1[:len(o3)], o2[:len(o3)] // hints for bounds checks
		for ; i+4 <= len(o3); i += 4 {
			b0.refill()
			b1.refill()
			b2.refill()
			b3.refill()
			v0, u0 := b0.val, b0.used
			v1, u1 := b1.val, b1.used
			v2, u2 := b2.val, b2.used
			v3, u3 := b3.val, b3.used
			for k := i; k < i+4; k++ {
				e0 := cells[(v0<<u0>>shift)&m]
				e1 := cells[(v1<<u1>>shift)&m]
				e2 := cells[(v2<<u2>>shift)&m]
				e3 := cells[(v3<<u3>>shift)&m]
				u0 += uint(e0 >> 8)
				u1 += uint(e1 >> 8)
				u2 += uint(e2 >> 8)
				u3 += uint(e3 >> 8)
				o0[k] = byte(e0)
				o1[k] = byte(e1)
				o2[k] = byte(e2)
				o3[k] = byte(e3)
			}
			b0.used, b1.used, b2.used, b3.used = u0, u1, u2, u3
		}
		o0, o1, o2 = out[:seg], out[seg:2*seg], out[2*seg:3*seg]
	}
	for k, o := range [4][]byte{o0, o1, o2, o3} {
		b := &br[k]
		for j := i; j < len(o); j++ {
			if j&3 == 0 {
				b.refill()
			}
			e := cells[(b.val<<b.used>>shift)&m]
			o[j] = byte(e)
			b.used += uint(e >> 8)
		}
		if !b.finished() {
			return errorf("Huffman stream %d not consumed exactly", k+1)
		}
	}
	return nil
}
