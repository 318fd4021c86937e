package zstdstream

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"
)

// Streams made by libzstd (Debian's python3-zstandard, levels 1 to 19,
// windows of 128 KiB to 4 MiB, a block flush after each message; made by
// testdata/libzstd/gen.py) decode to the messages' lengths and SHA-256:
// an encoder other than the one the fuzz targets use, so other choices
// of block, literal and table modes.
func TestLibzstdStreams(t *testing.T) {
	files, _ := filepath.Glob("testdata/libzstd/*.bin")
	if len(files) == 0 {
		t.Fatal("no testdata/libzstd streams")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			u32 := func() int {
				v := binary.LittleEndian.Uint32(b)
				b = b[4:]
				return int(v)
			}
			var d Decoder
			space := make([]byte, OutputSpace)
			for i, n := 0, u32(); i < n; i++ {
				size := u32()
				sum := b[:sha256.Size]
				b = b[sha256.Size:]
				rec := b[:u32()]
				b = b[len(rec):]
				got, err := decodeMessage(&d, rec, space)
				if err != nil {
					t.Fatalf("message %d: %v", i, err)
				}
				if h := sha256.Sum256(got); len(got) != size || !bytes.Equal(h[:], sum) {
					t.Fatalf("message %d: %d bytes, want %d, or not the same", i, len(got), size)
				}
			}
		})
	}
}
