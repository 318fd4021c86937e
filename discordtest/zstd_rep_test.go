package discordtest

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// A zstd block may copy from a repeat offset it did not set: the first
// block of a frame from the frame's initial ones (1, 4, 8). An Event's
// blocks, compressed as a frame of their own, may do so; zstdRepeatReset
// must give them those offsets back whatever the stream's blocks before
// left. Shown with a hand-made block that copies from repeat offset 1.
func TestZstdRepeatReset(t *testing.T) {
	// Blocks that leave 2 as the first repeat offset: one sequence, no
	// literals, offset 2 (value 5: code 2, extra bits 1), length 3.
	disturb := []byte{0x3c, 0, 0, 0x00, 0x01, 0x54, 0x00, 0x02, 0x00, 0x05}
	// Literals "ab", then one sequence: literal length 2, repeat offset 1
	// (offset value 1, code 0), match length 3. With repeat offset 1 equal
	// to 1 it writes "ab" + "bbb".
	usesRepeat := []byte{0x4c, 0, 0, 0x10, 'a', 'b', 0x01, 0x54, 0x02, 0x00, 0x00, 0x01}
	for _, c := range []struct {
		reset bool
		want  string
	}{{true, "abbbb"}, {false, "ababa"}} {
		s := append([]byte(nil), zstdFrameHeader...)
		s = appendRawBlock(s, zstdPad)
		s = append(s, disturb...)
		if c.reset {
			s = appendRawBlock(s, zstdPad)
			s = append(s, zstdRepeatReset...)
		}
		s = append(s, usesRepeat...)
		d, err := zstd.NewReader(bytes.NewReader(s), zstd.WithDecoderConcurrency(1))
		if err != nil {
			t.Fatal(err)
		}
		out, _ := io.ReadAll(d) // ends with an error: the frame never ends
		d.Close()
		if got := strings.TrimLeft(string(out), " "); got != c.want {
			t.Errorf("reset %v: decoded %q, want %q", c.reset, got, c.want)
		}
	}
}

// frameBlocks takes the blocks out of any frame the encoder makes.
func TestZstdFrameBlocks(t *testing.T) {
	for _, size := range []int{1, 100, 200 << 10, 1<<20 + 5} {
		src := bytes.Repeat([]byte("discord "), size/8+1)[:size]
		blocks := zstdBody(src)
		s := append(append([]byte(nil), zstdFrameHeader...), blocks...)
		d, _ := zstd.NewReader(bytes.NewReader(s), zstd.WithDecoderConcurrency(1))
		out := make([]byte, len(src))
		if _, err := io.ReadFull(d, out); err != nil || !bytes.Equal(out, src) {
			t.Errorf("%d bytes: %v", size, err)
		}
		d.Close()
	}
	for _, bad := range [][]byte{nil, []byte("not zstd"), zstdFrameHeader, append(append([]byte(nil), zstdFrameHeader...), 0x3c, 0, 0)} {
		if _, err := frameBlocks(bad); err == nil {
			t.Errorf("frameBlocks(%x) took it", bad)
		}
	}
}

// FuzzFrameBlocks: any input is refused or gives blocks no longer than
// it, none marked last.
func FuzzFrameBlocks(f *testing.F) {
	f.Add(zstdEncoder.EncodeAll([]byte(`{"op":0}`), nil))
	f.Add(append(append([]byte(nil), zstdFrameHeader...), 0x01, 0, 0))
	f.Fuzz(func(t *testing.T, frame []byte) {
		blocks, err := frameBlocks(frame)
		if err == nil && len(blocks) > len(frame) {
			t.Fatalf("%d bytes of blocks from a %d-byte frame", len(blocks), len(frame))
		}
	})
}
