package zstdstream

import "encoding/binary"

// sequences decodes nseq sequences from the bitstream src and executes
// them into dst, taking literals from lits; the literals left over follow.
// It returns the block's output size.
//
// lits may lie near the end of dst (copyMargin before it). That is safe
// because the output is checked, before each match, to stay within
// MaxBlockSize counting every literal of the block: the write position
// then stays at least copyMargin before the next unread literal, even
// when a short copy writes 16 bytes.
func (d *Decoder) sequences(dst, lits []byte, nseq int, src []byte) (int, error) {
	var br backReader
	if err := br.init(src); err != nil {
		return 0, err
	}
	llT, ofT, mlT := d.seq[kindLL], d.seq[kindOF], d.seq[kindML]
	llMask, ofMask, mlMask := uint32(len(llT)-1), uint32(len(ofT)-1), uint32(len(mlT)-1)
	llS := br.get(logOf(len(llT)))
	ofS := br.get(logOf(len(ofT)))
	mlS := br.get(logOf(len(mlT)))

	rep := d.rep
	w := 0       // output written
	lp := 0      // literals used
	matched := 0 // match bytes written
	limit := MaxBlockSize - len(lits)
	if limit < 0 || len(dst) < OutputSpace {
		return 0, errorf("%d literals do not fit a block", len(lits))
	}
	held := d.hist.n
	// The reader's fields in locals, which the compiler keeps in registers.
	in, off, used, val := br.in, br.off, br.used, br.val
	get := func(n uint8) uint32 {
		v := val << (used & 63) >> 1 >> ((63 - n) & 63) // see backReader.get
		used += uint(n)
		return uint32(v)
	}
	for i := 0; i < nseq; i++ {
		lc, oc, mc := llT[llS&llMask], ofT[ofS&ofMask], mlT[mlS&mlMask]
		// After a refill 57 bits are readable: the states take 26, so
		// extra bits up to 31 need no second refill.
		off, used, val = refill(in, off, used, val)
		var of, ml, ll uint32
		if oc.extra+mc.extra+lc.extra <= 31 {
			of = oc.base + get(oc.extra)
			ml = mc.base + get(mc.extra)
			ll = lc.base + get(lc.extra)
		} else {
			of = oc.base + get(oc.extra)
			off, used, val = refill(in, off, used, val)
			ml = mc.base + get(mc.extra)
			ll = lc.base + get(lc.extra)
			off, used, val = refill(in, off, used, val)
		}
		if i != nseq-1 {
			llS = uint32(lc.next) + get(lc.nbits)
			mlS = uint32(mc.next) + get(mc.nbits)
			ofS = uint32(oc.next) + get(oc.nbits)
		}

		// The offset: a new one, or one of the three repeat offsets.
		var off uint32
		if of > 3 {
			off = of - 3
			rep[2], rep[1], rep[0] = rep[1], rep[0], off
		} else {
			idx := of - 1
			if ll == 0 {
				idx++
			}
			switch idx {
			case 0:
				off = rep[0]
			case 1:
				off = rep[1]
				rep[1], rep[0] = rep[0], off
			case 2:
				off = rep[2]
				rep[2], rep[1], rep[0] = rep[1], rep[0], off
			default:
				off = rep[0] - 1
				if off == 0 {
					return 0, errorf("repeat offset of 0")
				}
				rep[2], rep[1], rep[0] = rep[1], rep[0], off
			}
		}

		// The literals, then the match.
		n := int(ll)
		if n > len(lits)-lp {
			return 0, errorf("sequence past the literals")
		}
		if int(ml) > limit-matched {
			return 0, errorf("block output over %d bytes", MaxBlockSize)
		}
		if n <= 16 && lp+16 <= cap(lits) {
			copy16(dst[w:w+16], lits[lp:lp+16])
		} else {
			copy(dst[w:], lits[lp:lp+n])
		}
		w += n
		lp += n
		matched += int(ml)
		o, n := int(off), int(ml)
		if o > w {
			// From the history, then from this block's start.
			back := o - w
			if back > held {
				return 0, errorf("offset %d before the stream's start", o)
			}
			k := min(n, back)
			h := &d.hist
			p := h.pos - back
			if p < 0 {
				p += h.size
			}
			if at := p % histChunk; k <= 16 && at+16 <= histChunk && p+k <= h.size {
				// Short, and in one chunk: 16 bytes at once.
				copy16(dst[w:w+16], h.chunks[p/histChunk][at:at+16])
			} else {
				h.copyBack(dst[w:w+k], back)
			}
			w += k
			n -= k
			if n == 0 {
				continue
			}
		}
		from := w - o
		switch {
		case o >= 16 && n <= 16:
			copy16(dst[w:w+16], dst[from:from+16])
			w += n
		case o >= n:
			w += copy(dst[w:w+n], dst[from:from+n])
		case o >= 8:
			// Overlapping, each 8 bytes from 8 or more before them.
			end := w + n
			for ; w < end; w, from = w+8, from+8 {
				binary.LittleEndian.PutUint64(dst[w:w+8], binary.LittleEndian.Uint64(dst[from:from+8]))
			}
			w = end
		default:
			// The last o bytes repeated; each round doubles what can be
			// copied at once.
			end := w + n
			for w < end {
				w += copy(dst[w:end], dst[from:w])
			}
		}
	}
	br.off, br.used, br.val = off, used, val
	if !br.finished() {
		return 0, errorf("sequences bitstream not consumed exactly")
	}
	w += copy(dst[w:], lits[lp:])
	d.rep = rep
	return w, nil
}

// copy16 copies 16 bytes, all read before any is written.
func copy16(dst, src []byte) {
	a := binary.LittleEndian.Uint64(src[:8])
	b := binary.LittleEndian.Uint64(src[8:16])
	binary.LittleEndian.PutUint64(dst[:8], a)
	binary.LittleEndian.PutUint64(dst[8:16], b)
}

// logOf returns the log of a table size, a power of 2.
func logOf(n int) uint8 {
	l := uint8(0)
	for n > 1 {
		n >>= 1
		l++
	}
	return l
}
