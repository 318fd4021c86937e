package gateway

// chunkSize is the size of the pieces a message too large for an
// inflater's own buffer is inflated into.
const chunkSize = 1 << 20

// spill is where an inflater puts a message that outgrows its own buffer
// (past keepCap): fixed chunks, joined once the message is complete. A
// doubling buffer would copy the message at each step and leave the
// smaller buffers as garbage, so a message of n bytes would cost up to 3n
// until the garbage collector ran; in chunks it costs n, plus n for the
// join of a message that completes. A decompression bomb stops at the
// limit holding about the limit.
type spill struct {
	chunks [][]byte
	n      int // bytes in chunks
}

// space returns where the next read goes, with at least free bytes of
// room: the spare capacity of *buf, grown up to keepCap, then chunks.
func (s *spill) space(buf *[]byte, free int) []byte {
	if len(s.chunks) == 0 {
		b := *buf
		if cap(b)-len(b) < free && len(b)+free <= keepCap {
			b = grow(b, len(b)+free, keepCap)
			*buf = b
		}
		if cap(b)-len(b) >= free {
			return b[len(b):cap(b)]
		}
	} else if c := s.chunks[len(s.chunks)-1]; cap(c)-len(c) >= free {
		return c[len(c):cap(c)]
	}
	c := make([]byte, 0, max(chunkSize, free))
	s.chunks = append(s.chunks, c)
	return c[:cap(c)]
}

// wrote records n bytes read into the slice space returned.
func (s *spill) wrote(buf *[]byte, n int) {
	if len(s.chunks) == 0 {
		*buf = (*buf)[:len(*buf)+n]
		return
	}
	c := &s.chunks[len(s.chunks)-1]
	*c = (*c)[:len(*c)+n]
	s.n += n
}

// len returns the bytes written since the message started at start of
// *buf.
func (s *spill) len(buf []byte, start int) int { return len(buf) - start + s.n }

// join makes *buf hold the whole message contiguously and forgets the
// chunks. It keeps the keep bytes of *buf before the message (an
// inflater's window) in front of it. It returns where the message starts.
func (s *spill) join(buf *[]byte, start, keep int) int {
	if len(s.chunks) == 0 {
		return start
	}
	b := *buf
	from := max(0, start-keep)
	nb := make([]byte, 0, len(b)-from+s.n)
	nb = append(nb, b[from:]...)
	for _, c := range s.chunks {
		nb = append(nb, c...)
	}
	*buf = nb
	s.reset()
	return start - from
}

// reset drops the chunks (after join, or a failed message).
func (s *spill) reset() {
	clear(s.chunks)
	s.chunks = s.chunks[:0]
	s.n = 0
}

// grow returns b with room for at least need bytes in all, doubling its
// capacity but never past limit (which must be at least need).
func grow(b []byte, need, limit int) []byte {
	if cap(b) >= need {
		return b
	}
	size := min(max(2*cap(b), need, 4<<10), limit)
	nb := make([]byte, len(b), size)
	copy(nb, b)
	return nb
}
