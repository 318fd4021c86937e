package zstdstream

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// MaxBlockSize is the most output one block makes.
const MaxBlockSize = 128 << 10

// OutputSpace is the least room Decode needs for a block's output: the
// most a block makes, and a margin that lets short copies move 16 bytes at
// once, past their end, without reaching literals not yet used.
const OutputSpace = MaxBlockSize + 2*copyMargin

const copyMargin = 32

// smallLits is the most literals decoded into Decoder.lits.
const smallLits = 4 << 10

// ErrCorrupt is the error of a stream that is not valid zstd.
var ErrCorrupt = errors.New("zstdstream: corrupt stream")

// ErrWindowTooLarge is the error of a frame declaring a window over the
// Decoder's MaxWindow.
var ErrWindowTooLarge = errors.New("zstdstream: window too large")

// ErrUnsupported is the error of a valid frame this decoder does not
// decode: one that needs a dictionary.
var ErrUnsupported = errors.New("zstdstream: unsupported frame")

func errorf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrCorrupt}, args...)...)
}

const (
	frameMagic     = 0xFD2FB528
	skippableMagic = 0x184D2A50 // the low 4 bits are free
)

// Decoder decodes a stream of zstd frames, one unit (a frame header, a
// block, a checksum, a skippable frame) per call of Decode. Its zero value
// accepts windows up to DefaultMaxWindow.
type Decoder struct {
	// MaxWindow caps the window a frame may declare; DefaultMaxWindow if 0.
	MaxWindow int

	state    decState
	checksum bool // the frame ends with a content checksum
	hist     history
	rep      [3]uint32 // the repeat offsets

	huf    huffTable
	hufSet bool // huf holds the frame's last Huffman table

	// lits holds a block's literals when there are few (most blocks of a
	// gateway stream), where they stay in the L1 cache; more go to the end
	// of the output space. The margin is for wild copies. Allocated at
	// the first block, dropped by Compact.
	lits *[smallLits + copyMargin]byte

	// The sequence tables in use, in own, one pointer for the decoding
	// loop; seq says what own[k] holds (for Repeat mode): nothing (nil),
	// a copy of the predefined table, or own[k]'s own.
	seq    [3]*seqTable
	seqLog [3]uint8
	own    [3]seqTable
}

// DefaultMaxWindow is the window cap of a Decoder whose MaxWindow is 0.
const DefaultMaxWindow = 8 << 20

type decState uint8

const (
	stateFrame    decState = iota // next: a frame's magic number
	stateBlock                    // next: a block header
	stateChecksum                 // next: the frame's checksum
)

// Reset makes d start a new stream. It keeps the memory its history
// holds, which the new stream reuses as its output arrives; Release lets
// go of it.
func (d *Decoder) Reset() {
	d.state = stateFrame
	d.hist.n = 0
}

// Release makes d start a new stream and lets go of its history.
func (d *Decoder) Release() {
	d.state = stateFrame
	d.hist.release()
}

// Decode decodes the unit at the start of src: a frame header or a
// checksum (no output), a skippable frame (none either) or a block, whose
// output goes to dst[:n]. dst must have room for OutputSpace bytes; its
// contents past n are scratch. used is the number of bytes of src the unit
// took, at least 1 unless err is set. A unit must lie whole in src.
func (d *Decoder) Decode(dst, src []byte) (n, used int, err error) {
	switch d.state {
	case stateFrame:
		used, err = d.frameHeader(src)
		return 0, used, err
	case stateChecksum:
		if len(src) < 4 {
			return 0, 0, errorf("truncated checksum")
		}
		d.state = stateFrame
		return 0, 4, nil
	}
	if len(dst) < OutputSpace {
		return 0, 0, fmt.Errorf("zstdstream: Decode needs %d bytes of space, has %d", OutputSpace, len(dst))
	}
	if len(src) < 3 {
		return 0, 0, errorf("truncated block header")
	}
	h := uint32(src[0]) | uint32(src[1])<<8 | uint32(src[2])<<16
	last := h&1 != 0
	size := int(h >> 3)
	if size > MaxBlockSize {
		return 0, 0, errorf("block of %d bytes", size)
	}
	src = src[3:]
	switch h >> 1 & 3 {
	case 0: // raw
		if len(src) < size {
			return 0, 0, errorf("truncated raw block")
		}
		n = copy(dst, src[:size])
		used = 3 + size
	case 1: // RLE
		if len(src) < 1 {
			return 0, 0, errorf("truncated RLE block")
		}
		b := dst[:size]
		for i := range b {
			b[i] = src[0]
		}
		n, used = size, 4
	case 2:
		if len(src) < size {
			return 0, 0, errorf("truncated compressed block")
		}
		// The literals of a large block go to the end of dst: no further
		// than a block from the output, as it is read.
		dst = dst[:OutputSpace:OutputSpace]
		if n, err = d.compressed(dst, src[:size]); err != nil {
			return 0, 0, err
		}
		used = 3 + size
	default:
		return 0, 0, errorf("reserved block type")
	}
	d.hist.write(dst[:n])
	if last {
		d.state = stateFrame
		if d.checksum {
			d.state = stateChecksum
		}
	}
	return n, used, nil
}

// frameHeader reads a frame header or skips a skippable frame, and
// returns its size.
func (d *Decoder) frameHeader(src []byte) (int, error) {
	if len(src) < 4 {
		return 0, errorf("truncated frame header")
	}
	magic := binary.LittleEndian.Uint32(src)
	if magic&^15 == skippableMagic {
		if len(src) < 8 {
			return 0, errorf("truncated skippable frame")
		}
		size := uint64(binary.LittleEndian.Uint32(src[4:]))
		if uint64(len(src)-8) < size {
			return 0, errorf("truncated skippable frame")
		}
		return 8 + int(size), nil
	}
	if magic != frameMagic {
		return 0, errorf("not a zstd frame")
	}
	if len(src) < 5 {
		return 0, errorf("truncated frame header")
	}
	fhd := src[4]
	single := fhd&0x20 != 0
	if fhd&0x08 != 0 {
		return 0, errorf("reserved frame header bit set")
	}
	dictSize := [4]int{0, 1, 2, 4}[fhd&3]
	fcsSize := [4]int{0, 2, 4, 8}[fhd>>6]
	if single && fcsSize == 0 {
		fcsSize = 1
	}
	i := 5
	window := uint64(0)
	if !single {
		if len(src) < 6 {
			return 0, errorf("truncated frame header")
		}
		wd := src[5]
		base := uint64(1) << (10 + wd>>3)
		window = base + base/8*uint64(wd&7)
		i = 6
	}
	if len(src) < i+dictSize+fcsSize {
		return 0, errorf("truncated frame header")
	}
	var dict uint64
	for k := dictSize - 1; k >= 0; k-- {
		dict = dict<<8 | uint64(src[i+k])
	}
	i += dictSize
	if dict != 0 {
		return 0, fmt.Errorf("%w: dictionary %d", ErrUnsupported, dict)
	}
	var fcs uint64
	for k := fcsSize - 1; k >= 0; k-- {
		fcs = fcs<<8 | uint64(src[i+k])
	}
	if fcsSize == 2 {
		fcs += 256
	}
	i += fcsSize
	if single {
		window = fcs
	}
	max := d.MaxWindow
	if max <= 0 {
		max = DefaultMaxWindow
	}
	if window > uint64(max) {
		return 0, fmt.Errorf("%w: %d bytes, over %d", ErrWindowTooLarge, window, max)
	}
	d.hist.reset(int(window))
	d.checksum = fhd&0x04 != 0
	d.rep = [3]uint32{1, 4, 8}
	d.hufSet = false
	d.seq = [3]*seqTable{}
	d.state = stateBlock
	return i, nil
}

// Compact lets go of the scratch space a block needs only while it is
// decoded (the literal array, the Huffman pair table: 12 KiB); the next
// block takes it again. For a stream that has gone quiet.
func (d *Decoder) Compact() {
	d.lits = nil
	d.huf.pairs = nil
}

// Held returns the bytes of history d holds, the memory that lasts between
// messages beside d itself.
func (d *Decoder) Held() int { return d.hist.held() }
