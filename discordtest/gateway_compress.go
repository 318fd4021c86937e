package discordtest

import (
	"bytes"
	"errors"
	"sync"

	"github.com/klauspost/compress/flate"
	"github.com/klauspost/compress/zstd"
)

// Transport compression values of the connect URL's compress parameter.
const (
	compressZlib = "zlib-stream"
	compressZstd = "zstd-stream"
)

// compressor turns each payload into the bytes of one binary message of a
// connection-long compressed stream.
type compressor interface {
	// message appends the parts of one payload, compressed, to dst.
	message(dst []byte, parts ...[]byte) []byte
	close()
}

// newCompressor returns the stream compressor for a connection, or nil for
// plain text frames.
func newCompressor(kind string) compressor {
	switch kind {
	case compressZlib:
		return &zlibStream{}
	case compressZstd:
		return &zstdStream{}
	}
	return nil
}

// zlibStream is a zlib stream in which each message is compressed on its
// own: DEFLATE blocks that refer to nothing before them, ending in a sync
// flush (00 00 ff ff), as a client needs to inflate a message at once. Its
// bytes are then valid at any message boundary of any connection, so an
// Event compresses its data once for every connection and every send, and
// a connection holds no compressor. The client still runs one inflater
// over the whole stream, as with Discord; only the compression ratio is
// lower, since no message borrows from the ones before it.
type zlibStream struct{ started bool }

// zlibHeader starts the stream: DEFLATE, a 32 KiB window.
var zlibHeader = []byte{0x78, 0x9c}

func (z *zlibStream) message(dst []byte, parts ...[]byte) []byte {
	dst = z.start(dst)
	return deflateMessage(dst, parts...)
}

// start appends the stream's header before its first message.
func (z *zlibStream) start(dst []byte) []byte {
	if z.started {
		return dst
	}
	z.started = true
	return append(dst, zlibHeader...)
}

func (z *zlibStream) close() {}

// deflaters are the process's DEFLATE compressors, reset for each message.
var deflaters = sync.Pool{New: func() any {
	w, _ := flate.NewWriter(nil, flate.BestSpeed)
	return w
}}

// deflateMessage appends parts as DEFLATE blocks of their own, ending in a
// sync flush.
func deflateMessage(dst []byte, parts ...[]byte) []byte {
	w := deflaters.Get().(*flate.Writer)
	b := bytes.NewBuffer(dst)
	w.Reset(b)
	for _, p := range parts {
		w.Write(p) // writes to a bytes.Buffer cannot fail
	}
	w.Flush()
	w.Reset(nil)
	deflaters.Put(w)
	return b.Bytes()
}

// appendStored appends b as a stored (uncompressed) DEFLATE block, which
// starts at the byte boundary a sync flush leaves. b is at most 65,535
// bytes: a dispatch's envelope.
func appendStored(dst, b []byte) []byte {
	n := len(b)
	dst = append(dst, 0, byte(n), byte(n>>8), ^byte(n), ^byte(n>>8))
	return append(dst, b...)
}

// zstdStream is one zstd frame for the connection's life, never ended, as
// Discord's; like zlibStream, each message is made of blocks that depend
// on nothing before them, so an Event's are compressed once. A zstd block
// may refer to the repeat offsets the blocks before it left, so each
// message starts by setting them back to a frame's initial 1, 4, 8:
// zstdRepeatReset, two tiny blocks of three matches of 3 spaces each, at
// offsets 8, 4 and 1, after 8 spaces. The spaces are JSON whitespace: a
// dispatch's go between "d": and its value, another payload's in front.
type zstdStream struct{ started bool }

var (
	// zstdFrameHeader: the magic number, then no content size, no
	// checksum, a 1 MiB window (exponent 10, mantissa 0).
	zstdFrameHeader = []byte{0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x50}
	// zstdRepeatReset is two compressed blocks (header 0x3c 0 0: 7 bytes,
	// type 2, not last), each with no literals (0x00), one or two
	// sequences whose literal length, offset and match length codes are
	// RLE (0x54, then the codes 0, OF, 0) and a bitstream of offset extra
	// bits: offset 8 (code 3, extra 3), then offsets 4 (code 2, extra 3)
	// and 1 (code 2, extra 0).
	zstdRepeatReset = []byte{
		0x3c, 0, 0, 0x00, 0x01, 0x54, 0x00, 0x03, 0x00, 0x0b,
		0x3c, 0, 0, 0x00, 0x02, 0x54, 0x00, 0x02, 0x00, 0x1c,
	}
	// zstdPad is what zstdRepeatReset copies from.
	zstdPad = []byte("        ")
)

// zstdEncoder compresses each message's body; EncodeAll is safe for
// concurrent use. Offsets stay within the 1 MiB window the stream
// declares: the frame is never a single segment.
var zstdEncoder, _ = zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest),
	zstd.WithWindowSize(1<<20), zstd.WithSingleSegment(false), zstd.WithEncoderCRC(false),
	zstd.WithEncoderConcurrency(1))

func (z *zstdStream) message(dst []byte, parts ...[]byte) []byte {
	dst = z.start(dst)
	dst = appendRawBlock(dst, zstdPad)
	dst = append(dst, zstdRepeatReset...)
	return append(dst, zstdBody(parts...)...)
}

// start appends the frame's header before the stream's first message.
func (z *zstdStream) start(dst []byte) []byte {
	if z.started {
		return dst
	}
	z.started = true
	return append(dst, zstdFrameHeader...)
}

func (z *zstdStream) close() {}

// appendRawBlock appends b (at most 128 KiB: an envelope) as a raw block.
func appendRawBlock(dst, b []byte) []byte {
	h := uint32(len(b)) << 3 // not last, type 0 (raw)
	return append(append(dst, byte(h), byte(h>>8), byte(h>>16)), b...)
}

// zstdBody compresses parts as a frame of their own and returns its
// blocks, none of them marked last, to follow zstdRepeatReset.
func zstdBody(parts ...[]byte) []byte {
	var src []byte
	if len(parts) == 1 {
		src = parts[0]
	} else {
		for _, p := range parts {
			src = append(src, p...)
		}
	}
	frame := zstdEncoder.EncodeAll(src, nil)
	blocks, err := frameBlocks(frame)
	if err != nil {
		// Our own encoder's output: a bug, not bad input.
		panic("discordtest: " + err.Error())
	}
	return blocks
}

// frameBlocks returns a zstd frame's blocks, the last no longer marked
// last, without the frame's header or checksum. It changes frame.
func frameBlocks(frame []byte) ([]byte, error) {
	if len(frame) < 6 || !bytes.Equal(frame[:4], zstdFrameHeader[:4]) {
		return nil, errors.New("not a zstd frame")
	}
	fhd := frame[4]
	i := 5
	single := fhd&0x20 != 0
	if !single {
		i++ // the window descriptor
	}
	i += [4]int{0, 1, 2, 4}[fhd&3]
	fcs := [4]int{0, 2, 4, 8}[fhd>>6]
	if fcs == 0 && single {
		fcs = 1
	}
	i += fcs
	end := len(frame)
	if fhd&0x04 != 0 {
		end -= 4 // the checksum
	}
	if i > end {
		return nil, errors.New("short zstd frame")
	}
	blocks := frame[i:end]
	for j := 0; j+3 <= len(blocks); {
		h := uint32(blocks[j]) | uint32(blocks[j+1])<<8 | uint32(blocks[j+2])<<16
		size := int(h >> 3)
		if h>>1&3 == 1 { // RLE: one byte
			size = 1
		}
		if h&1 != 0 {
			blocks[j] &^= 1
			if j+3+size != len(blocks) {
				return nil, errors.New("zstd frame has data after its last block")
			}
			return blocks, nil
		}
		j += 3 + size
	}
	return nil, errors.New("zstd frame has no last block")
}
