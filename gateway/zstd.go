package gateway

import (
	"fmt"
	"io"

	"github.com/klauspost/compress/zstd"
)

// zstdMaxBlock is the largest output of one zstd block.
const zstdMaxBlock = 128 << 10

// zstdInflater inflates a zstd-stream: one zstd frame for the whole
// connection, each message ending on a flushed block.
//
// klauspost/compress/zstd decodes a stream synchronously (no goroutines)
// with concurrency 1, and its Read returns after one block once it has
// output. Reading a message with more than one block's worth of free
// space each time means the decoder never holds output back and never asks
// for a byte past the message; asking would hit the end of our input, an
// error it keeps.
type zstdInflater struct {
	dec    *zstd.Decoder
	src    msgReader
	out    []byte
	max    int
	window int
	broken bool
}

func newZstdInflater(max, window int) *zstdInflater {
	return &zstdInflater{max: max, window: window}
}

func (z *zstdInflater) reset() error {
	z.out = z.out[:0]
	z.src.reset(nil, nil)
	z.broken = false
	if z.dec == nil {
		dec, err := zstd.NewReader(&z.src,
			zstd.WithDecoderConcurrency(1),
			zstd.WithDecoderMaxWindow(uint64(max(z.window, zstd.MinWindowSize))),
			zstd.WithDecoderLowmem(false),
		)
		if err != nil {
			return fmt.Errorf("%w: %v", ErrDecompress, err)
		}
		z.dec = dec
		return nil
	}
	if err := z.dec.Reset(&z.src); err != nil {
		return fmt.Errorf("%w: %v", ErrDecompress, err)
	}
	return nil
}

// inflate decompresses one WebSocket message. The result is valid until the
// next call.
func (z *zstdInflater) inflate(p []byte) ([]byte, error) {
	if z.dec == nil || z.broken {
		if err := z.reset(); err != nil {
			return nil, err
		}
	}
	z.out = z.out[:0]
	z.src.reset(p, nil)
	for z.src.remaining() > 0 {
		if cap(z.out)-len(z.out) <= zstdMaxBlock {
			z.out = append(z.out[:cap(z.out)], make([]byte, zstdMaxBlock+1)...)[:len(z.out)]
		}
		before := z.src.remaining()
		n, err := z.dec.Read(z.out[len(z.out):cap(z.out)])
		z.out = z.out[:len(z.out)+n]
		if err != nil && err != io.EOF {
			z.broken = true
			return nil, fmt.Errorf("%w: %v", ErrDecompress, err)
		}
		if len(z.out) > z.max {
			z.broken = true
			return nil, fmt.Errorf("%w: message over %d bytes", ErrMessageTooBig, z.max)
		}
		if n == 0 && z.src.remaining() == before {
			z.broken = true
			return nil, fmt.Errorf("%w: decoder made no progress", ErrDecompress)
		}
	}
	return z.out, nil
}

func (z *zstdInflater) close() {
	if z.dec != nil {
		z.dec.Close()
		z.dec = nil
	}
}

// msgReader reads a message followed by a tail, without copying the
// message, and reports how much is left so the caller knows when the
// decoder has consumed a whole message.
type msgReader struct {
	a, b []byte
}

func (r *msgReader) reset(a, b []byte) { r.a, r.b = a, b }

func (r *msgReader) remaining() int { return len(r.a) + len(r.b) }

func (r *msgReader) ReadByte() (byte, error) {
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

func (r *msgReader) Read(p []byte) (int, error) {
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
