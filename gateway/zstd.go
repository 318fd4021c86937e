package gateway

import (
	"fmt"
	"io"

	"github.com/ipcord/ipcord/internal/twopart"
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
	src    twopart.Reader
	out    []byte
	spill  spill // the part of a large message past keepCap
	max    int
	window int
	broken bool
}

func newZstdInflater(max, window int) *zstdInflater {
	return &zstdInflater{max: max, window: window}
}

func (z *zstdInflater) reset() error {
	z.out = z.out[:0]
	z.src.Reset(nil, nil)
	z.broken = false
	if z.dec == nil {
		dec, err := zstd.NewReader(&z.src,
			zstd.WithDecoderConcurrency(1),
			zstd.WithDecoderMaxWindow(uint64(max(z.window, zstd.MinWindowSize))),
			zstd.WithDecoderLowmem(true),
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
	if cap(z.out) > keepCap+zstdMaxBlock {
		z.out = nil // a huge message grew it; see keepCap
	}
	z.src.Reset(p, nil)
	// Output goes to z.out up to keepCap, then to chunks (see spill): a
	// bomb stops at the limit, holding about the limit.
	for z.src.Remaining() > 0 {
		before := z.src.Remaining()
		n, err := z.dec.Read(z.spill.space(&z.out, zstdMaxBlock+1))
		z.spill.wrote(&z.out, n)
		if err != nil && err != io.EOF {
			return nil, z.fail(fmt.Errorf("%w: %v", ErrDecompress, err))
		}
		if z.spill.len(z.out, 0) > z.max {
			return nil, z.fail(fmt.Errorf("%w: message over %d bytes", ErrMessageTooBig, z.max))
		}
		if n == 0 && z.src.Remaining() == before {
			return nil, z.fail(fmt.Errorf("%w: decoder made no progress", ErrDecompress))
		}
	}
	z.spill.join(&z.out, 0, 0)
	return z.out, nil
}

// compact drops the output buffer (up to a block and a message); the
// decoder and its history stay, as the stream needs them.
func (z *zstdInflater) compact() {
	z.out = nil
	z.src.Reset(nil, nil)
}

// fail marks the stream broken (the next message starts a new decoder
// state) and drops the message's output.
func (z *zstdInflater) fail(err error) error {
	z.broken = true
	z.spill.reset()
	z.out = z.out[:0]
	return err
}

func (z *zstdInflater) close() {
	if z.dec != nil {
		z.dec.Close()
		z.dec = nil
	}
}
