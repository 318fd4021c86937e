package gateway

import (
	"errors"
	"fmt"
	"io"

	"github.com/ipcord/ipcord/gateway/internal/zstdstream"
	"github.com/ipcord/ipcord/internal/twopart"
	"github.com/klauspost/compress/zstd"
)

// zstdMaxBlock is the room a decoder needs for one zstd block's output.
const zstdMaxBlock = zstdstream.OutputSpace

// zstdDecoder decodes a zstd-stream a step at a time: from the start of
// src into dst (room for zstdMaxBlock bytes), giving the output made and
// the input taken. Two implement it: zstdstream, the default, and
// klauspost/compress/zstd, when Config.ZstdFastDecoder is set.
type zstdDecoder interface {
	decode(dst, src []byte) (n, used int, err error)
	reset() error // a new stream, no history
	compact()     // lets go of what a quiet stream need not hold
	close()
}

// zstdInflater inflates a zstd-stream: one zstd frame for the whole
// connection, each message ending on a flushed block.
type zstdInflater struct {
	dec    zstdDecoder
	out    []byte
	spill  spill // the part of a large message past keepCap
	max    int
	window int
	fast   bool // klauspost's decoder
	broken bool
}

func newZstdInflater(max, window int, fast bool) *zstdInflater {
	return &zstdInflater{max: max, window: window, fast: fast}
}

// reset prepares for a new connection: a new stream, no history.
func (z *zstdInflater) reset() error {
	z.out = z.out[:0]
	z.broken = false
	if z.dec == nil {
		if z.fast {
			z.dec = &klauspostZstd{window: z.window}
		} else {
			z.dec = &ownZstd{d: zstdstream.Decoder{MaxWindow: z.window}}
		}
	}
	if err := z.dec.reset(); err != nil {
		return fmt.Errorf("%w: %w", ErrDecompress, err)
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
	// Output goes to z.out up to keepCap, then to chunks (see spill): a
	// bomb stops at the limit, holding about the limit.
	for len(p) > 0 {
		n, used, err := z.dec.decode(z.spill.space(&z.out, zstdMaxBlock), p)
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

// compact drops the output buffer (up to a block and a message) and what
// the decoder need not hold while the stream is quiet; its history stays,
// as the stream needs it.
func (z *zstdInflater) compact() {
	z.out = nil
	if z.dec != nil {
		z.dec.compact()
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
		z.dec.close()
		z.dec = nil
	}
}

// errNoProgress: klauspost's decoder took no input and made no output.
var errNoProgress = errors.New("decoder made no progress")

// klauspostZstd is klauspost/compress/zstd's decoder, which decodes a
// stream synchronously (no goroutines) with concurrency 1; its Read
// returns after one block once it has output. Reading with more than one
// block's worth of free space each time means it never holds output back
// and never asks for a byte past the message; asking would hit the end of
// our input, an error it keeps. Between messages it holds a history ring
// of the declared window plus two blocks, and a block buffer.
type klauspostZstd struct {
	dec    *zstd.Decoder
	src    twopart.Reader
	window int
}

func (k *klauspostZstd) decode(dst, src []byte) (int, int, error) {
	k.src.Reset(src, nil)
	n, err := k.dec.Read(dst)
	used := len(src) - k.src.Remaining()
	k.src.Reset(nil, nil)
	if err != nil && err != io.EOF {
		return 0, 0, err
	}
	if n == 0 && used == 0 {
		return 0, 0, errNoProgress
	}
	return n, used, nil
}

func (k *klauspostZstd) reset() error {
	if k.dec == nil {
		dec, err := zstd.NewReader(&k.src,
			zstd.WithDecoderConcurrency(1),
			zstd.WithDecoderMaxWindow(uint64(max(k.window, zstd.MinWindowSize))),
			zstd.WithDecoderLowmem(true),
		)
		k.dec = dec
		return err
	}
	return k.dec.Reset(&k.src)
}

func (k *klauspostZstd) compact() {}

func (k *klauspostZstd) close() {
	if k.dec != nil {
		k.dec.Close()
		k.dec = nil
	}
}

// ownZstd is zstdstream's decoder: block by block into the message's
// buffer; between messages it holds the history the stream has actually
// output (up to the window, in 16 KiB pieces) and its entropy tables.
type ownZstd struct{ d zstdstream.Decoder }

func (o *ownZstd) decode(dst, src []byte) (int, int, error) { return o.d.Decode(dst, src) }
func (o *ownZstd) reset() error                             { o.d.Reset(); return nil }
func (o *ownZstd) compact()                                 { o.d.Compact() }
func (o *ownZstd) close()                                   { o.d.Release() }
