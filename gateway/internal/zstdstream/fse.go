package zstdstream

import "math/bits"

// fseCell is one state of an FSE decoding table: the symbol it decodes,
// and how to reach the next state (read nbits, add next).
type fseCell struct {
	sym   uint8
	nbits uint8
	next  uint16
}

// readCounts reads an FSE table description (RFC 8878, 4.1.1): the
// normalized counts of symbols 0 to maxSym at an accuracy log of at most
// maxLog. It returns the number of symbols described, the accuracy log and
// the bytes the description took.
func readCounts(norm *[256]int16, src []byte, maxSym, maxLog int) (nsym, log, used int, err error) {
	if len(src) == 0 {
		return 0, 0, 0, errorf("missing FSE table description")
	}
	// The description is read forward, least significant bit first.
	pos := uint(0)
	peek := func() uint32 {
		i := int(pos >> 3)
		var v uint32
		for k := 3; k >= 0; k-- {
			v <<= 8
			if i+k < len(src) {
				v |= uint32(src[i+k])
			}
		}
		return v >> (pos & 7)
	}
	log = int(src[0]&15) + 5
	if log > maxLog {
		return 0, 0, 0, errorf("FSE accuracy log %d over %d", log, maxLog)
	}
	pos = 4
	remaining := (1 << log) + 1
	threshold := 1 << log
	nbits := uint(log + 1)
	sym := 0
	prev0 := false
	for remaining > 1 {
		if prev0 {
			for {
				r := int(peek() & 3)
				pos += 2
				for i := 0; i < r && sym <= maxSym; i++ {
					norm[sym] = 0
					sym++
				}
				if r < 3 {
					break
				}
				if int(pos>>3) > len(src) {
					return 0, 0, 0, errorf("truncated FSE table description")
				}
			}
		}
		if sym > maxSym {
			return 0, 0, 0, errorf("FSE table description past symbol %d", maxSym)
		}
		max := 2*threshold - 1 - remaining
		v := int(peek())
		var count int
		if v&(threshold-1) < max {
			count = v & (threshold - 1)
			pos += nbits - 1
		} else {
			count = v & (2*threshold - 1)
			if count >= threshold {
				count -= max
			}
			pos += nbits
		}
		count--
		if count < 0 {
			remaining--
		} else {
			remaining -= count
		}
		if remaining < 1 {
			return 0, 0, 0, errorf("FSE counts over the table size")
		}
		norm[sym] = int16(count)
		sym++
		prev0 = count == 0
		for remaining < threshold {
			nbits--
			threshold >>= 1
		}
	}
	used = int(pos+7) >> 3
	if used > len(src) {
		return 0, 0, 0, errorf("truncated FSE table description")
	}
	return sym, log, used, nil
}

// buildFSE fills cells (1<<log of them) from normalized counts
// (RFC 8878, 4.1.1, "From normalized distribution to decoding tables").
func buildFSE(cells []fseCell, norm []int16, log int) error {
	size := 1 << log
	cells = cells[:size]
	high := size - 1
	var next [256]uint16
	for s, c := range norm {
		if c == -1 {
			cells[high].sym = uint8(s)
			high--
			next[s] = 1
		} else {
			next[s] = uint16(c)
		}
	}
	mask := size - 1
	step := size>>1 + size>>3 + 3
	pos := 0
	for s, c := range norm {
		for i := 0; i < int(c); i++ {
			cells[pos].sym = uint8(s)
			pos = (pos + step) & mask
			for pos > high {
				pos = (pos + step) & mask
			}
		}
	}
	if pos != 0 {
		return errorf("FSE counts do not fill the table")
	}
	for u := range cells {
		s := cells[u].sym
		x := next[s]
		next[s]++
		nb := uint(log) + 1 - uint(bits.Len16(x))
		cells[u].nbits = uint8(nb)
		cells[u].next = uint16(int(x)<<nb - size)
	}
	return nil
}
