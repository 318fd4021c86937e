package gateway

import (
	"fmt"
	"io"

	"github.com/ipcord/ipcord/gateway/internal/zstdstream"
	"github.com/ipcord/ipcord/internal/twopart"
	"github.com/klauspost/compress/zstd"
)

// zstdMaxBlock is the room a decoder needs for one zstd block's output.
const zstdMaxBlock = zstdstream.OutputSpace

// zstdInflater inflates a zstd-stream: one zstd frame for the whole
// connection, each message ending on a flushed block. It decodes with
// klauspost/compress/zstd, or with zstdstream when Config.ZstdLowMemory
// is set.
//
// klauspost's decoder decodes a stream synchronously (no goroutines) with
// concurrency 1, and its Read returns after one block once it has output.
// Reading a message with more than one block's worth of free space each
// time means the decoder never holds output back and never asks for a
// byte past the message; asking would hit the end of our input, an error
// it keeps. Between messages it holds a history ring of the declared
// window plus two blocks, and a block buffer.
//
// zstdstream decodes block by block into the message's buffer; between
// messages it holds the history the stream has actually output (up to
// the window, in 16 KiB pieces) and its entropy tables.
type zstdInflater struct {
	lowMem bool
	dec    *zstd.Decoder       // !lowMem
	src    twopart.Reader      // !lowMem: the message
	own    *zstdstream.Decoder // lowMem
	out    []byte
	spill  spill // the part of a large message past keepCap
	max    int
	window int
	broken bool
}

func newZstdInflater(max, window int, lowMem bool) *zstdInflater {
	return &zstdInflater{max: max, window: window, lowMem: lowMem}
}

// reset prepares for a new connection: a new stream, no history.
func (z *zstdInflater) reset() error {
	z.out = z.out[:0]
	z.broken = false
	if z.lowMem {
		if z.own == nil {
			z.own = &zstdstream.Decoder{MaxWindow: z.window}
		}
		z.own.Reset()
		return nil
	}
	z.src.Reset(nil, nil)
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
	if (z.dec == nil && z.own == nil) || z.broken {
		if err := z.reset(); err != nil {
			return nil, err
		}
	}
	z.out = z.out[:0]
	if cap(z.out) > keepCap+zstdMaxBlock {
		z.out = nil // a huge message grew it; see keepCap
	}
	// Output goes to z.out up to keepCap, then to chunks (see spill): a
	// bomb stops at the limit, holding about the limit.
	if z.lowMem {
		for len(p) > 0 {
			n, used, err := z.own.Decode(z.spill.space(&z.out, zstdMaxBlock), p)
			if err != nil {
				return nil, z.fail(fmt.Errorf("%w: %w", ErrDecompress, err))
			}
			z.spill.wrote(&z.out, n)
			p = p[used:]
			if z.spill.len(z.out, 0) > z.max {
				return nil, z.fail(fmt.Errorf("%w: message over %d bytes", ErrMessageTooBig, z.max))
			}
		}
	} else {
		z.src.Reset(p, nil)
		for z.src.Remaining() > 0 {
			before := z.src.Remaining()
			n, err := z.dec.Read(z.spill.space(&z.out, zstdMaxBlock))
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
	}
	z.spill.join(&z.out, 0, 0)
	return z.out, nil
}

// compact drops the output buffer (up to a block and a message) and
// zstdstream's scratch space; the decoder and its history stay, as the
// stream needs them.
func (z *zstdInflater) compact() {
	z.out = nil
	z.src.Reset(nil, nil)
	if z.own != nil {
		z.own.Compact()
	}
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
	z.own = nil
}
