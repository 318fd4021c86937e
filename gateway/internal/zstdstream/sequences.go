package zstdstream

import "encoding/binary"

// seq is a decoded sequence: literals to copy, then a match.
type seq struct {
	ll, ml, off uint32
}

// seqBatch is how many sequences are decoded before they are executed:
// two short loops, each with few enough live values to stay in registers,
// run faster than one that does both.
const seqBatch = 64

// sequences decodes nseq sequences from the bitstream src and executes
// them into dst, taking literals from lits; the literals left over follow.
// It returns the block's output size.
func (d *Decoder) sequences(dst, lits []byte, nseq int, src []byte) (int, error) {
	var sd seqDecoder
	if err := sd.init(d, src); err != nil {
		return 0, err
	}
	if len(lits) > MaxBlockSize || len(dst) < OutputSpace {
		return 0, errorf("%d literals do not fit a block", len(lits))
	}
	ex := executor{dst: (*[OutputSpace]byte)(dst), lits: lits, hist: &d.hist, budget: MaxBlockSize - len(lits)}
	var batch [seqBatch]seq
	for nseq > 0 {
		n := min(nseq, seqBatch)
		nseq -= n
		nlits, nmatch, err := sd.decode(batch[:n], nseq == 0)
		if err != nil {
			return 0, err
		}
		if err := ex.run(batch[:n], nlits, nmatch); err != nil {
			return 0, err
		}
	}
	if !sd.br.finished() {
		return 0, errorf("sequences bitstream not consumed exactly")
	}
	d.rep = sd.rep
	ex.w += copy(dst[ex.w:], lits[ex.lp:])
	return ex.w, nil
}

// seqDecoder reads sequences from a block's bitstream.
type seqDecoder struct {
	br            backReader
	tables        *[3]seqTable
	llS, ofS, mlS uint32
	rep           [3]uint32
}

func (sd *seqDecoder) init(d *Decoder, src []byte) error {
	if err := sd.br.init(src); err != nil {
		return err
	}
	sd.tables = &d.own
	sd.llS = sd.br.get(d.seqLog[kindLL])
	sd.ofS = sd.br.get(d.seqLog[kindOF])
	sd.mlS = sd.br.get(d.seqLog[kindML])
	sd.rep = d.rep
	return nil
}

// decode fills out with the next sequences and returns their literal
// and match bytes; last says whether they end the block. The last
// sequence updates no state: the loop reads the states' bits all the
// same, and gives them back after it, which spares it a test per
// sequence.
func (sd *seqDecoder) decode(out []seq, last bool) (nlits, nmatch int, err error) {
	t := sd.tables
	// A state is below its table's size: the initial one has log bits,
	// and the cells' next and nbits keep it so. The mask is for the
	// compiler.
	const mask = uint32(len(seqTable{}) - 1)
	llS, ofS, mlS := sd.llS, sd.ofS, sd.mlS
	// The reader's fields in locals, which the compiler keeps in registers.
	in, off, used, val := sd.br.in, sd.br.off, sd.br.used, sd.br.val
	get := func(n uint8) uint32 {
		v := val << (used & 63) >> 1 >> ((63 - n) & 63) // see backReader.get
		used += uint(n)
		return uint32(v)
	}
	var lc, oc, mc seqCell
	for i := range out {
		lc, oc, mc = t[kindLL][llS&mask], t[kindOF][ofS&mask], t[kindML][mlS&mask]
		// After a refill 57 bits are readable: the states take 26, so
		// extra bits up to 31 need no second refill.
		off, used, val = refill(in, off, used, val)
		var of, ml, ll uint32
		if n := oc.extra() + mc.extra() + lc.extra(); n <= 31 {
			// Each field read from where the ones before it end, so that
			// the reads do not wait on one another.
			bits := val << (used & 63)
			at := func(pos, n uint8) uint32 {
				return uint32(bits << (pos & 63) >> 1 >> ((63 - n) & 63))
			}
			p1 := oc.extra()
			p2 := p1 + mc.extra()
			of = oc.base() + at(0, oc.extra())
			ml = mc.base() + at(p1, mc.extra())
			ll = lc.base() + at(p2, lc.extra())
			p4 := n + lc.nbits()
			p5 := p4 + mc.nbits()
			llS = lc.next() + at(n, lc.nbits())
			mlS = mc.next() + at(p4, mc.nbits())
			ofS = oc.next() + at(p5, oc.nbits())
			used += uint(p5 + oc.nbits())
		} else {
			of = oc.base() + get(oc.extra())
			off, used, val = refill(in, off, used, val)
			ml = mc.base() + get(mc.extra())
			ll = lc.base() + get(lc.extra())
			off, used, val = refill(in, off, used, val)
			llS = lc.next() + get(lc.nbits())
			mlS = mc.next() + get(mc.nbits())
			ofS = oc.next() + get(oc.nbits())
		}
		out[i] = seq{ll: ll, ml: ml, off: of}
	}
	if last {
		// used may wrap below 0 after a refill: remaining reads it as
		// an int, which makes the count right.
		used -= uint(lc.nbits()) + uint(mc.nbits()) + uint(oc.nbits())
	}
	sd.llS, sd.ofS, sd.mlS = llS, ofS, mlS
	sd.br.off, sd.br.used, sd.br.val = off, used, val
	return sd.offsets(out)
}

// offsets resolves the offset values of decoded sequences into offsets
// and sums their literal and match bytes. It is a loop of its own, after
// the decoding, as the repeat offsets would take three more registers in
// a loop that has none to spare.
func (sd *seqDecoder) offsets(out []seq) (nlits, nmatch int, err error) {
	rep0, rep1, rep2 := sd.rep[0], sd.rep[1], sd.rep[2]
	for i := range out {
		s := &out[i]
		var ok bool
		if rep0, rep1, rep2, ok = repeat(s.off, s.ll, rep0, rep1, rep2); !ok {
			return 0, 0, errorf("repeat offset of 0")
		}
		s.off = rep0
		nlits += int(s.ll)
		nmatch += int(s.ml)
	}
	sd.rep = [3]uint32{rep0, rep1, rep2}
	return nlits, nmatch, nil
}

// repeat resolves a sequence's offset value against the repeat offsets
// (RFC 8878, 3.1.1.5) and returns them updated, the offset to use first;
// ok is false for an offset of 0.
func repeat(of, ll, rep0, rep1, rep2 uint32) (uint32, uint32, uint32, bool) {
	if of > 3 {
		return of - 3, rep0, rep1, true
	}
	idx := of - 1
	if ll == 0 {
		idx++
	}
	switch idx {
	case 0:
		return rep0, rep1, rep2, true
	case 1:
		return rep1, rep0, rep2, true
	case 2:
		return rep2, rep0, rep1, true
	}
	return rep0 - 1, rep0, rep1, rep0 != 1
}

// executor writes a block's output from its sequences.
//
// lits may lie near the end of dst (copyMargin before it). That is safe
// because the output is checked, before each batch of sequences, to stay
// within MaxBlockSize counting every literal of the block: the write
// position then stays at least copyMargin before the next unread literal,
// even when a short copy writes past its end.
type executor struct {
	dst    *[OutputSpace]byte // an array: its bounds are constants, which spares the loop registers
	lits   []byte
	hist   *history
	w      int // output written
	lp     int // literals used
	budget int // match bytes the block may still make
}

// run executes seqs, which take nlits literals and make nmatch bytes of
// matches. Checking the totals once, before the loop, checks every
// sequence: the positions only grow.
func (ex *executor) run(seqs []seq, nlits, nmatch int) error {
	if nlits > len(ex.lits)-ex.lp {
		return errorf("sequence past the literals")
	}
	if nmatch > ex.budget {
		return errorf("block output over %d bytes", MaxBlockSize)
	}
	ex.budget -= nmatch
	dst, lits, w, lp := ex.dst, ex.lits, ex.w, ex.lp
	held := ex.hist.n
	for _, s := range seqs {
		n := int(s.ll)
		if n <= 32 && lp+32 <= cap(lits) {
			copy32((*[32]byte)(dst[w:w+32]), (*[32]byte)(lits[lp:lp+32]))
		} else if n <= wildMax && lp+n+16 <= cap(lits) {
			wildCopy(dst[w:], lits[lp:cap(lits)], n)
		} else {
			copy(dst[w:], lits[lp:lp+n])
		}
		w += n
		lp += n
		o, n := int(s.off), int(s.ml)
		if o > w {
			// From the history, then from this block's start.
			back := o - w
			if back > held {
				return errorf("offset %d before the stream's start", o)
			}
			k := min(n, back)
			h := ex.hist
			p := h.pos - back
			if p < 0 {
				p += h.size
			}
			if at := p % histChunk; k <= 32 && at+32 <= histChunk && p+k <= h.size {
				copy32((*[32]byte)(dst[w:w+32]), (*[32]byte)(h.chunks[p/histChunk][at:at+32]))
			} else if k <= wildMax && at+k+16 <= histChunk && p+k <= h.size {
				// Short, and in one chunk.
				wildCopy(dst[w:], h.chunks[p/histChunk][at:], k)
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
		case o >= 16 && n <= 32:
			copy32((*[32]byte)(dst[w:w+32]), (*[32]byte)(dst[from:from+32]))
			w += n
		case o >= 16 && n <= wildMax:
			// Each 16 bytes read were written before (or were there).
			wildCopy(dst[w:], dst[from:], n)
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
	ex.w, ex.lp = w, lp
	return nil
}

// wildMax is the longest copy made 16 bytes at a time; memmove is faster
// past it.
const wildMax = 128

// wildCopy copies n bytes 16 at a time, so up to 15 bytes past n: dst and
// src must have room for them, and where they overlap src must be 16 or
// more bytes before dst.
func wildCopy(dst, src []byte, n int) {
	for i := 0; i < n; i += 16 {
		copy16((*[16]byte)(dst[i:i+16]), (*[16]byte)(src[i:i+16]))
	}
}

// copy32 copies 32 bytes, 16 at a time: where they overlap, src must be
// 16 or more bytes before dst. Copying 32 bytes whatever the length up to
// 32 spares the branch a loop's end mispredicts. Array pointers leave
// the bounds checks to the caller's conversion, one per slice.
func copy32(dst, src *[32]byte) {
	*(*[16]byte)(dst[:16]) = *(*[16]byte)(src[:16])
	*(*[16]byte)(dst[16:]) = *(*[16]byte)(src[16:])
}

// copy16 copies 16 bytes, all read before any is written.
func copy16(dst, src *[16]byte) {
	*dst = *src
}
