package twopart

import "io"

// Reader reads a, then b. It is an io.ByteReader too, so compress/flate
// and zstd read it directly instead of wrapping it in a bufio.Reader. The
// zero value reads nothing.
type Reader struct {
	a, b []byte
}

// Reset makes r read a, then b.
func (r *Reader) Reset(a, b []byte) { r.a, r.b = a, b }

// Remaining returns how many bytes are left to read.
func (r *Reader) Remaining() int { return len(r.a) + len(r.b) }

// Read implements io.Reader.
func (r *Reader) Read(p []byte) (int, error) {
	if len(r.a) > 0 {
		n := copy(p, r.a)
		r.a = r.a[n:]
		return n, nil
	}
	if len(r.b) > 0 {
		n := copy(p, r.b)
		r.b = r.b[n:]
		return n, nil
	}
	return 0, io.EOF
}

// ReadByte implements io.ByteReader.
func (r *Reader) ReadByte() (byte, error) {
	if len(r.a) > 0 {
		c := r.a[0]
		r.a = r.a[1:]
		return c, nil
	}
	if len(r.b) > 0 {
		c := r.b[0]
		r.b = r.b[1:]
		return c, nil
	}
	return 0, io.EOF
}
