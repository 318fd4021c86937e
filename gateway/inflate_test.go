package gateway

import (
	"bufio"
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// loadSession returns the plain messages of testdata/session.jsonl.
func loadSession(t testing.TB) [][]byte {
	t.Helper()
	f, err := os.Open("testdata/session.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var msgs [][]byte
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		msgs = append(msgs, append([]byte(nil), sc.Bytes()...))
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return msgs
}

// loadRecords reads a length-prefixed record file made by gen_zlib.py.
func loadRecords(t testing.TB, name string) [][]byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	var recs [][]byte
	for len(b) > 0 {
		if len(b) < 4 {
			t.Fatalf("%s: truncated record header", name)
		}
		n := binary.BigEndian.Uint32(b)
		recs = append(recs, b[4:4+n])
		b = b[4+n:]
	}
	return recs
}

// zstdStream compresses msgs as Discord's zstd-stream does: one frame,
// a flush after each message.
func zstdStream(t testing.TB, msgs [][]byte, level zstd.EncoderLevel) [][]byte {
	t.Helper()
	var buf bytes.Buffer
	enc, err := zstd.NewWriter(&buf, zstd.WithEncoderConcurrency(1), zstd.WithEncoderLevel(level), zstd.WithWindowSize(1<<20))
	if err != nil {
		t.Fatal(err)
	}
	var recs [][]byte
	for _, m := range msgs {
		if _, err := enc.Write(m); err != nil {
			t.Fatal(err)
		}
		if err := enc.Flush(); err != nil {
			t.Fatal(err)
		}
		recs = append(recs, append([]byte(nil), buf.Bytes()...))
		buf.Reset()
	}
	return recs
}

func TestZlibInflateCZlib(t *testing.T) {
	want := loadSession(t)
	for _, level := range []string{"0", "1", "6", "9"} {
		t.Run("level"+level, func(t *testing.T) {
			recs := loadRecords(t, "testdata/session.zlib"+level+".bin")
			if len(recs) != len(want) {
				t.Fatalf("%d records, %d messages", len(recs), len(want))
			}
			z := newZlibInflater(DefaultMaxMessage)
			for i, r := range recs {
				got, ok, err := z.inflate(r)
				if err != nil || !ok {
					t.Fatalf("message %d: ok=%v err=%v", i, ok, err)
				}
				if !bytes.Equal(got, want[i]) {
					t.Fatalf("message %d: got %d bytes %.60q, want %d bytes %.60q", i, len(got), got, len(want[i]), want[i])
				}
			}
		})
	}
}

// TestZlibInflateSplit feeds each zlib message in random WebSocket-sized
// pieces (a piece never ends on the flush suffix, as Discord guarantees).
func TestZlibInflateSplit(t *testing.T) {
	want := loadSession(t)
	recs := loadRecords(t, "testdata/session.zlib6.bin")
	rng := rand.New(rand.NewPCG(1, 2))
	z := newZlibInflater(DefaultMaxMessage)
	for i, r := range recs {
		var got []byte
		for len(r) > 0 {
			n := 1 + rng.IntN(len(r))
			if n < len(r) && bytes.HasSuffix(r[:n], zlibSuffix) {
				n++
			}
			out, ok, err := z.inflate(r[:n])
			r = r[n:]
			if err != nil {
				t.Fatalf("message %d: %v", i, err)
			}
			if ok != (len(r) == 0) {
				t.Fatalf("message %d: ok=%v with %d bytes left", i, ok, len(r))
			}
			got = out
		}
		if !bytes.Equal(got, want[i]) {
			t.Fatalf("message %d differs", i)
		}
	}
}

func TestZlibInflateNewConnection(t *testing.T) {
	want := loadSession(t)
	recs := loadRecords(t, "testdata/session.zlib6.bin")
	z := newZlibInflater(DefaultMaxMessage)
	for round := 0; round < 2; round++ {
		z.reset()
		for i, r := range recs[:5] {
			got, ok, err := z.inflate(r)
			if err != nil || !ok || !bytes.Equal(got, want[i]) {
				t.Fatalf("round %d message %d: ok=%v err=%v", round, i, ok, err)
			}
		}
	}
}

func TestZlibInflateCorrupt(t *testing.T) {
	recs := loadRecords(t, "testdata/session.zlib6.bin")
	cases := map[string][][]byte{
		"bad header":       {append([]byte{0x12, 0x34}, recs[0][2:]...)},
		"preset dict":      {append([]byte{0x78, 0xbb}, recs[0][2:]...)},
		"no header":        {recs[1]},
		"garbage":          {append(bytes.Repeat([]byte{0xff}, 40), zlibSuffix...)},
		"truncated":        {recs[0], append(append([]byte(nil), recs[1][:len(recs[1])/2]...), zlibSuffix...)},
		"final block":      {recs[0], {0x03, 0x00, 0x00, 0x00, 0xff, 0xff}},
		"bad stored len":   {recs[0], {0x00, 0x05, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff}},
		"reserved btype":   {recs[0], {0x07, 0x00, 0x00, 0xff, 0xff}},
		"distance too far": {{0x78, 0x9c, 0x63, 0x00, 0x02, 0x00, 0x00, 0xff, 0xff}},
	}
	for name, msgs := range cases {
		t.Run(name, func(t *testing.T) {
			z := newZlibInflater(DefaultMaxMessage)
			var err error
			for _, m := range msgs {
				if _, _, err = z.inflate(m); err != nil {
					break
				}
			}
			if !errors.Is(err, ErrDecompress) {
				t.Fatalf("err = %v, want ErrDecompress", err)
			}
		})
	}
}

func TestZlibInflateTooBig(t *testing.T) {
	recs := loadRecords(t, "testdata/session.zlib6.bin")
	z := newZlibInflater(1000)
	var err error
	for _, r := range recs {
		if _, _, err = z.inflate(r); err != nil {
			break
		}
	}
	if !errors.Is(err, ErrMessageTooBig) {
		t.Fatalf("err = %v, want ErrMessageTooBig", err)
	}
}

// zstdDecoders names the two zstd-stream decoders by Config.ZstdFastDecoder.
var zstdDecoders = map[string]bool{"zstdstream": false, "klauspost": true}

func TestZstdInflate(t *testing.T) {
	want := loadSession(t)
	for name, fast := range zstdDecoders {
		for _, level := range []zstd.EncoderLevel{zstd.SpeedFastest, zstd.SpeedDefault, zstd.SpeedBestCompression} {
			t.Run(name+"/"+level.String(), func(t *testing.T) {
				recs := zstdStream(t, want, level)
				z := newZstdInflater(DefaultMaxMessage, DefaultZstdMaxWindow, fast)
				defer z.close()
				for round := 0; round < 2; round++ {
					if err := z.reset(); err != nil {
						t.Fatal(err)
					}
					for i, r := range recs {
						got, err := z.inflate(r)
						if err != nil {
							t.Fatalf("round %d message %d: %v", round, i, err)
						}
						if !bytes.Equal(got, want[i]) {
							t.Fatalf("round %d message %d: got %d bytes, want %d", round, i, len(got), len(want[i]))
						}
					}
				}
			})
		}
	}
}

func TestZstdInflateCorrupt(t *testing.T) {
	msgs := loadSession(t)
	recs := zstdStream(t, msgs, zstd.SpeedDefault)
	bigWindow := func() []byte {
		var buf bytes.Buffer
		enc, _ := zstd.NewWriter(&buf, zstd.WithEncoderConcurrency(1), zstd.WithWindowSize(64<<20))
		enc.Write(bytes.Repeat([]byte("x"), 100))
		enc.Flush()
		return buf.Bytes()
	}()
	cases := map[string][][]byte{
		"garbage":     {bytes.Repeat([]byte{0xa5}, 64)},
		"bad magic":   {append([]byte{0, 0, 0, 0}, recs[0][4:]...)},
		"truncated":   {recs[0], recs[1][:len(recs[1])/2]},
		"skip header": {recs[1]},
		"big window":  {bigWindow},
	}
	for dec, fast := range zstdDecoders {
		for name, in := range cases {
			t.Run(dec+"/"+name, func(t *testing.T) {
				z := newZstdInflater(DefaultMaxMessage, DefaultZstdMaxWindow, fast)
				defer z.close()
				var err error
				for _, m := range in {
					if _, err = z.inflate(m); err != nil {
						break
					}
				}
				if !errors.Is(err, ErrDecompress) {
					t.Fatalf("err = %v, want ErrDecompress", err)
				}
				// A new connection gets a working inflater again.
				if err := z.reset(); err != nil {
					t.Fatal(err)
				}
				got, err := z.inflate(recs[0])
				if err != nil || !bytes.Equal(got, msgs[0]) {
					t.Fatalf("after reset: %v", err)
				}
			})
		}
	}
}

// TestInflatersShrink checks that a huge message does not pin its buffer:
// after it, the next small message leaves the inflater's buffer small.
func TestInflatersShrink(t *testing.T) {
	huge := bytes.Repeat([]byte(`{"t":"X","s":1,"op":0,"d":"abcdefghij"}`), 100_000) // ~4 MB
	small := []byte(`{"t":"Y","s":2,"op":0,"d":{}}`)
	var zbuf bytes.Buffer
	zw := zlib.NewWriter(&zbuf)
	var zrecs [][]byte
	for _, m := range [][]byte{huge, small, small} {
		zw.Write(m)
		zw.Flush()
		zrecs = append(zrecs, bytes.Clone(zbuf.Bytes()))
		zbuf.Reset()
	}
	z := newZlibInflater(DefaultMaxMessage)
	for i, r := range zrecs {
		out, ok, err := z.inflate(r)
		if err != nil || !ok || !bytes.Equal(out, [][]byte{huge, small, small}[i]) {
			t.Fatalf("zlib message %d: ok=%v err=%v", i, ok, err)
		}
	}
	if cap(z.out) > keepCap {
		t.Fatalf("zlib keeps a %d-byte buffer", cap(z.out))
	}
	for name, fast := range zstdDecoders {
		zs := newZstdInflater(DefaultMaxMessage, DefaultZstdMaxWindow, fast)
		defer zs.close()
		for i, r := range zstdStream(t, [][]byte{huge, small, small}, zstd.SpeedFastest) {
			out, err := zs.inflate(r)
			if err != nil || !bytes.Equal(out, [][]byte{huge, small, small}[i]) {
				t.Fatalf("zstd (%s) message %d: %v", name, i, err)
			}
		}
		if cap(zs.out) > keepCap+zstdMaxBlock {
			t.Fatalf("zstd (%s) keeps a %d-byte buffer", name, cap(zs.out))
		}
	}
}
