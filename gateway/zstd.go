package gateway

import (
	"fmt"

	"github.com/ipcord/ipcord/gateway/internal/zstdstream"
)

// zstdMaxBlock is the room the decoder needs for one zstd block's output.
const zstdMaxBlock = zstdstream.OutputSpace

// zstdInflater inflates a zstd-stream: one zstd frame for the whole
// connection, each message ending on a flushed block. It decodes with
// zstdstream, block by block into the message's buffer; between messages
// it holds the stream's history, which grows only as output arrives, and
// its entropy tables.
type zstdInflater struct {
	dec    *zstdstream.Decoder
	out    []byte
	spill  spill // the part of a large message past keepCap
	max    int
	window int
	broken bool
}

func newZstdInflater(max, window int) *zstdInflater {
	return &zstdInflater{max: max, window: window}
}

// reset prepares for a new connection: a new stream, no history.
func (z *zstdInflater) reset() error {
	z.out = z.out[:0]
	z.broken = false
	if z.dec == nil {
		z.dec = &zstdstream.Decoder{MaxWindow: z.window}
	}
	z.dec.Reset()
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
	// Output goes to z.out up to keepCap, then to chunks (see spill): a
	// bomb stops at the limit, holding about the limit.
	for len(p) > 0 {
		space := z.spill.space(&z.out, zstdMaxBlock)
		n, used, err := z.dec.Decode(space, p)
		if err != nil {
			return nil, z.fail(fmt.Errorf("%w: %w", ErrDecompress, err))
		}
		z.spill.wrote(&z.out, n)
		p = p[used:]
		if z.spill.len(z.out, 0) > z.max {
			return nil, z.fail(fmt.Errorf("%w: message over %d bytes", ErrMessageTooBig, z.max))
		}
	}
	z.spill.join(&z.out, 0, 0)
	return z.out, nil
}

// compact drops the output buffer (up to a block and a message); the
// decoder and its history stay, as the stream needs them.
func (z *zstdInflater) compact() {
	z.out = nil
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
	z.dec = nil
}
