package zstdstream

// histChunk is the unit the history grows by.
const histChunk = 16 << 10

// history is the frame's window: the last size bytes of output, in a ring
// of chunks allocated as output first reaches them, so that a connection
// holds what it has received (up to the window) rounded up to a chunk.
type history struct {
	chunks [][]byte // each nil or histChunk bytes; slices, not array pointers, so that reading one needs no nil check that touches its first line
	size   int      // the window
	pos    int      // where the next byte goes, in [0, size)
	n      int      // bytes held, at most size
}

// reset empties the history for a frame with the given window. It keeps
// the chunks already allocated that the window still covers: a stream
// that starts again (a new frame, a reconnection) fills them again as its
// output arrives, and what they held is never read (n is 0).
func (h *history) reset(window int) {
	n := (window + histChunk - 1) / histChunk
	if n <= cap(h.chunks) {
		clear(h.chunks[n:cap(h.chunks)])
		h.chunks = h.chunks[:n]
	} else {
		h.chunks = append(h.chunks[:cap(h.chunks)], make([][]byte, n-cap(h.chunks))...)
	}
	h.size, h.pos, h.n = window, 0, 0
}

// release lets go of the chunks.
func (h *history) release() {
	h.chunks = nil
	h.size, h.pos, h.n = 0, 0, 0
}

// write appends p.
func (h *history) write(p []byte) {
	if len(p) >= h.size {
		p = p[len(p)-h.size:]
	}
	h.n = min(h.n+len(p), h.size)
	for len(p) > 0 {
		c := h.chunks[h.pos/histChunk]
		if c == nil {
			c = make([]byte, histChunk)
			h.chunks[h.pos/histChunk] = c
		}
		at := h.pos % histChunk
		end := min(histChunk, h.size-(h.pos-at))
		k := copy(c[at:end], p)
		p = p[k:]
		h.pos += k
		if h.pos == h.size {
			h.pos = 0
		}
	}
}

// copyBack fills dst with the bytes that start dist bytes back
// (dist ≥ len(dst), dist ≤ h.n).
func (h *history) copyBack(dst []byte, dist int) {
	p := h.pos - dist
	if p < 0 {
		p += h.size
	}
	for len(dst) > 0 {
		c := h.chunks[p/histChunk]
		at := p % histChunk
		end := min(histChunk, h.size-(p-at))
		k := copy(dst, c[at:end])
		dst = dst[k:]
		p += k
		if p == h.size {
			p = 0
		}
	}
}

// held returns the bytes of memory the history holds.
func (h *history) held() int {
	n := 0
	for _, c := range h.chunks {
		if c != nil {
			n += histChunk
		}
	}
	return n
}
