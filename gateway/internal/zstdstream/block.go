package zstdstream

// compressed decodes a compressed block (RFC 8878, 3.1.1.3) from src into
// dst and returns the output's size.
func (d *Decoder) compressed(dst, src []byte) (int, error) {
	lits, used, err := d.literals(dst, src)
	if err != nil {
		return 0, err
	}
	src = src[used:]
	if len(src) == 0 {
		return 0, errorf("missing sequences section")
	}
	nseq := int(src[0])
	switch {
	case nseq < 128:
		src = src[1:]
	case nseq < 255:
		if len(src) < 2 {
			return 0, errorf("truncated sequences header")
		}
		nseq = (nseq-128)<<8 | int(src[1])
		src = src[2:]
	default:
		if len(src) < 3 {
			return 0, errorf("truncated sequences header")
		}
		nseq = int(src[1]) | int(src[2])<<8 + 0x7F00
		src = src[3:]
	}
	if nseq == 0 {
		if len(src) != 0 {
			return 0, errorf("bytes after a block without sequences")
		}
		return copy(dst, lits), nil
	}
	if len(src) == 0 {
		return 0, errorf("truncated sequences header")
	}
	modes := src[0]
	if modes&3 != 0 {
		return 0, errorf("reserved bits in the sequence modes")
	}
	src = src[1:]
	for k := kindLL; k <= kindML; k++ {
		mode := modes >> (6 - 2*k) & 3
		n, err := d.seqTable(k, mode, src)
		if err != nil {
			return 0, err
		}
		src = src[n:]
	}
	return d.sequences(dst, lits, nseq, src)
}

// literals reads the literals section at the start of src and returns the
// literals, which are either in src or decoded into the end of dst, and
// the section's size.
func (d *Decoder) literals(dst, src []byte) ([]byte, int, error) {
	if len(src) == 0 {
		return nil, 0, errorf("missing literals section")
	}
	b0 := src[0]
	typ, sf := b0&3, b0>>2&3
	if typ < 2 { // raw or RLE
		var size, hdr int
		switch sf {
		case 0, 2:
			size, hdr = int(b0>>3), 1
		case 1:
			if len(src) < 2 {
				return nil, 0, errorf("truncated literals header")
			}
			size, hdr = int(b0>>4)|int(src[1])<<4, 2
		case 3:
			if len(src) < 3 {
				return nil, 0, errorf("truncated literals header")
			}
			size, hdr = int(b0>>4)|int(src[1])<<4|int(src[2])<<12, 3
		}
		if size > MaxBlockSize {
			return nil, 0, errorf("%d literals", size)
		}
		if typ == 0 {
			if len(src) < hdr+size {
				return nil, 0, errorf("truncated raw literals")
			}
			return src[hdr : hdr+size], hdr + size, nil
		}
		if len(src) < hdr+1 {
			return nil, 0, errorf("truncated RLE literals")
		}
		lits := d.litSpace(dst, size)
		for i := range lits {
			lits[i] = src[hdr]
		}
		return lits, hdr + 1, nil
	}
	// Huffman-coded, with a new tree or the last one.
	var regen, comp, hdr int
	streams := 4
	switch sf {
	case 0, 1:
		if len(src) < 3 {
			return nil, 0, errorf("truncated literals header")
		}
		h := int(src[0]) | int(src[1])<<8 | int(src[2])<<16
		regen, comp, hdr = h>>4&0x3FF, h>>14&0x3FF, 3
		if sf == 0 {
			streams = 1
		}
	case 2:
		if len(src) < 4 {
			return nil, 0, errorf("truncated literals header")
		}
		h := int(src[0]) | int(src[1])<<8 | int(src[2])<<16 | int(src[3])<<24
		regen, comp, hdr = h>>4&0x3FFF, h>>18&0x3FFF, 4
	case 3:
		if len(src) < 5 {
			return nil, 0, errorf("truncated literals header")
		}
		h := int(src[0]) | int(src[1])<<8 | int(src[2])<<16 | int(src[3])<<24 | int(src[4])<<32
		regen, comp, hdr = h>>4&0x3FFFF, h>>22&0x3FFFF, 5
	}
	if regen > MaxBlockSize {
		return nil, 0, errorf("%d literals", regen)
	}
	if len(src) < hdr+comp {
		return nil, 0, errorf("truncated Huffman literals")
	}
	in := src[hdr : hdr+comp]
	if typ == 2 {
		n, err := d.huf.read(in)
		if err != nil {
			return nil, 0, err
		}
		d.hufSet = true
		in = in[n:]
	} else if !d.hufSet {
		return nil, 0, errorf("treeless literals without an earlier tree")
	}
	lits := d.litSpace(dst, regen)
	var err error
	if streams == 1 {
		err = d.huf.decode1(lits, in)
	} else {
		err = d.huf.decode4(lits, in)
	}
	if err != nil {
		return nil, 0, err
	}
	return lits, hdr + comp, nil
}

// seqTable sets the table of field k for this block's sequences from its
// mode and description at the start of src, and returns the description's
// size.
func (d *Decoder) seqTable(k seqKind, mode uint8, src []byte) (int, error) {
	own := &d.own[k]
	switch mode {
	case 0:
		if d.seq[k] != predefined[k] {
			log := predefinedLog[k]
			copy(own[:1<<log], predefined[k][:1<<log])
			d.seq[k], d.seqLog[k] = predefined[k], log
		}
		return 0, nil
	case 1:
		if len(src) == 0 {
			return 0, errorf("truncated RLE sequence code")
		}
		if int(src[0]) > maxCode[k] {
			return 0, errorf("sequence code %d", src[0])
		}
		rleSeqTable(own, k, src[0])
		d.seq[k], d.seqLog[k] = own, 0
		return 1, nil
	case 2:
		var norm [256]int16
		nsym, log, n, err := readCounts(&norm, src, maxCode[k], maxLog[k])
		if err != nil {
			return 0, err
		}
		if err := buildSeqTable(own, k, norm[:nsym], log); err != nil {
			return 0, err
		}
		d.seq[k], d.seqLog[k] = own, uint8(log)
		return n, nil
	}
	if d.seq[k] == nil {
		return 0, errorf("repeated sequence table without an earlier one")
	}
	return 0, nil
}

// litSpace returns where n literals are decoded: d.lits if they fit, else
// the end of dst, copyMargin before it. Either way the slice's capacity
// leaves room for wild copies past it.
func (d *Decoder) litSpace(dst []byte, n int) []byte {
	if n <= smallLits {
		if d.lits == nil {
			d.lits = new([smallLits + copyMargin]byte)
		}
		return d.lits[:n]
	}
	return dst[len(dst)-copyMargin-n : len(dst)-copyMargin]
}
