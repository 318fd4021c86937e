package zstdstream

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/ipcord/ipcord/internal/leaktest"
	"github.com/klauspost/compress/zstd"
)

// decodeMessage decodes one message of a stream with d, as the gateway
// does: unit after unit, until the message is used up.
func decodeMessage(d *Decoder, msg []byte, space []byte) ([]byte, error) {
	var out []byte
	for len(msg) > 0 {
		n, used, err := d.Decode(space, msg)
		if err != nil {
			return out, err
		}
		if used == 0 {
			return out, fmt.Errorf("no progress")
		}
		out = append(out, space[:n]...)
		msg = msg[used:]
	}
	return out, nil
}

// checkMessages decodes recs, a stream's messages, with one Decoder and
// fails unless each gives msgs[i]; then calls also, if not nil.
func checkMessages(t testing.TB, recs, msgs [][]byte, also func(i int, got []byte)) {
	t.Helper()
	var d Decoder
	space := make([]byte, OutputSpace)
	for i, rec := range recs {
		got, err := decodeMessage(&d, rec, space)
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		if !bytes.Equal(got, msgs[i]) {
			t.Fatalf("message %d: got %d bytes, want %d", i, len(got), len(msgs[i]))
		}
		if also != nil {
			also(i, got)
		}
	}
}

// encodeStream compresses msgs as one frame with a flush after each, as
// Discord's zstd-stream does, and returns each message's bytes.
func encodeStream(t testing.TB, msgs [][]byte, opts ...zstd.EOption) [][]byte {
	t.Helper()
	var buf bytes.Buffer
	enc, err := zstd.NewWriter(&buf, append([]zstd.EOption{zstd.WithEncoderConcurrency(1)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for _, m := range msgs {
		enc.Write(m)
		enc.Flush()
		out = append(out, bytes.Clone(buf.Bytes()))
		buf.Reset()
	}
	return out
}

// sample returns n bytes that compress like JSON: words from a small
// vocabulary, numbers and some noise.
func sample(r *rand.Rand, n int) []byte {
	words := []string{`{"id":"`, `","name":"`, `"channel_id"`, `,"guild_id":`, `true`, `false`, `null`, `},{`, `"type":0`, `"permissions":"`}
	var b []byte
	for len(b) < n {
		switch r.IntN(4) {
		case 0, 1:
			b = append(b, words[r.IntN(len(words))]...)
		case 2:
			b = fmt.Appendf(b, "%d", r.Uint64())
		default:
			for range r.IntN(8) {
				b = append(b, byte(r.IntN(256)))
			}
		}
	}
	return b[:n]
}

func TestStreamMatchesKlauspost(t *testing.T) {
	leaktest.Check(t) // klauspost's encoders, synchronous at concurrency 1
	r := rand.New(rand.NewPCG(1, 2))
	for _, level := range []zstd.EncoderLevel{zstd.SpeedFastest, zstd.SpeedDefault, zstd.SpeedBetterCompression, zstd.SpeedBestCompression} {
		for _, window := range []int{1 << 10, 32 << 10, 1 << 20} {
			t.Run(fmt.Sprintf("%v/%d", level, window), func(t *testing.T) {
				var msgs [][]byte
				for range 40 {
					n := r.IntN(3000)
					if r.IntN(10) == 0 {
						n = r.IntN(400_000)
					}
					msgs = append(msgs, sample(r, n))
				}
				recs := encodeStream(t, msgs, zstd.WithEncoderLevel(level), zstd.WithWindowSize(window))
				checkMessages(t, recs, msgs, nil)
			})
		}
	}
}

// Corrupted streams fail with the package's errors, never a panic, and
// never make more than a block per unit.
func TestCorruptStreams(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	var msgs [][]byte
	for range 6 {
		msgs = append(msgs, sample(r, 200+r.IntN(5000)))
	}
	var streams [][][]byte
	for _, level := range []zstd.EncoderLevel{zstd.SpeedFastest, zstd.SpeedDefault, zstd.SpeedBestCompression} {
		streams = append(streams, encodeStream(t, msgs, zstd.WithEncoderLevel(level), zstd.WithWindowSize(64<<10)))
	}
	space := make([]byte, OutputSpace)
	failed := 0
	for i := range 3000 {
		recs := streams[i%len(streams)]
		mutated := make([][]byte, len(recs))
		for j, rec := range recs {
			mutated[j] = bytes.Clone(rec)
		}
		for range 1 + r.IntN(3) {
			m := mutated[r.IntN(len(mutated))]
			m[r.IntN(len(m))] ^= byte(1 + r.IntN(255))
		}
		var d Decoder
		for _, m := range mutated {
			var err error
			for len(m) > 0 && err == nil {
				var n, used int
				n, used, err = d.Decode(space, m)
				if err == nil && (n > MaxBlockSize || used <= 0 || used > len(m)) {
					t.Fatalf("Decode made %d bytes from %d of %d", n, used, len(m))
				}
				m = m[used:]
			}
			if err != nil {
				if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrWindowTooLarge) && !errors.Is(err, ErrUnsupported) {
					t.Fatalf("untyped error %v", err)
				}
				failed++
				break
			}
		}
	}
	if failed < 1000 {
		t.Fatalf("only %d of 3000 corrupted streams failed", failed)
	}
}

// A frame declaring a window over MaxWindow fails with ErrWindowTooLarge;
// one needing a dictionary with ErrUnsupported.
func TestFrameHeaderErrors(t *testing.T) {
	space := make([]byte, OutputSpace)
	d := Decoder{MaxWindow: 1 << 20}
	big := []byte{0x28, 0xb5, 0x2f, 0xfd, 0x00, 11 << 3} // a 2 MiB window
	if _, _, err := d.Decode(space, big); !errors.Is(err, ErrWindowTooLarge) {
		t.Fatalf("2 MiB window: %v", err)
	}
	d.Reset()
	dict := []byte{0x28, 0xb5, 0x2f, 0xfd, 0x01, 10 << 3, 7} // dictionary 7
	if _, _, err := d.Decode(space, dict); !errors.Is(err, ErrUnsupported) {
		t.Fatalf("dictionary: %v", err)
	}
	d.Reset()
	if _, _, err := d.Decode(space, []byte("not zstd")); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("garbage: %v", err)
	}
}

// Raw and RLE blocks, a skippable frame between two frames, and a frame's
// checksum are decoded or skipped.
func TestFrames(t *testing.T) {
	h := []byte{0x28, 0xb5, 0x2f, 0xfd, 0x04, 0} // checksum, a 1 KiB window
	var s []byte
	s = append(s, h...)
	s = append(s, 5<<3|0<<1, 0, 0) // raw, 5 bytes
	s = append(s, "hello"...)
	s = append(s, 3<<3|1<<1|1, 0, 0, '!')                   // RLE, 3 bytes, last
	s = append(s, 1, 2, 3, 4)                               // the checksum, not checked
	s = append(s, 0x5a, 0x2a, 0x4d, 0x18, 2, 0, 0, 0, 9, 9) // skippable, 2 bytes
	s = append(s, h[:4]...)
	s = append(s, 0x20, 2) // single segment, content size 2
	s = append(s, 2<<3|1, 0, 0, 'o', 'k')
	var d Decoder
	got, err := decodeMessage(&d, s, make([]byte, OutputSpace))
	if err != nil || string(got) != "hello!!!ok" {
		t.Fatalf("got %q, %v", got, err)
	}
}

// The history holds what the stream has output, in 16 KiB chunks, not the
// window it declares.
func TestHistoryGrowsLazily(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	msgs := [][]byte{sample(r, 20_000), sample(r, 20_000)}
	recs := encodeStream(t, msgs, zstd.WithWindowSize(1<<20))
	var d Decoder
	space := make([]byte, OutputSpace)
	for i, rec := range recs {
		if _, err := decodeMessage(&d, rec, space); err != nil {
			t.Fatal(err)
		}
		if want := (20_000*(i+1) + histChunk - 1) / histChunk * histChunk; d.Held() != want {
			t.Fatalf("after message %d the history holds %d bytes, want %d", i, d.Held(), want)
		}
	}
	d.Release()
	if d.Held() != 0 {
		t.Fatalf("after Release the history holds %d bytes", d.Held())
	}
}

// The repeat offsets follow RFC 8878's worked example (3.1.1.5).
func TestRepeatOffsets(t *testing.T) {
	r := [3]uint32{1, 4, 8}
	for _, step := range []struct{ of, ll, r0, r1, r2 uint32 }{
		{1114, 11, 1111, 1, 4},
		{1, 22, 1111, 1, 4},
		{2225, 22, 2222, 1111, 1},
		{1114, 111, 1111, 2222, 1111},
		{3336, 33, 3333, 1111, 2222},
		{2, 22, 1111, 3333, 2222},
		{3, 33, 2222, 1111, 3333},
		{3, 0, 2221, 2222, 1111},
		{1, 0, 2222, 2221, 1111},
	} {
		var ok bool
		r[0], r[1], r[2], ok = repeat(step.of, step.ll, r[0], r[1], r[2])
		if want := [3]uint32{step.r0, step.r1, step.r2}; !ok || r != want {
			t.Fatalf("offset value %d, literal length %d: %v, want %v", step.of, step.ll, r, want)
		}
	}
	if _, _, _, ok := repeat(3, 0, 1, 4, 8); ok {
		t.Fatal("repeat offset 1 - 1 accepted")
	}
}

// Compact lets go of the scratch space, and the stream goes on after it.
func TestCompact(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	msgs := [][]byte{sample(r, 50_000), sample(r, 2000), sample(r, 50_000)}
	recs := encodeStream(t, msgs, zstd.WithWindowSize(1<<20))
	var d Decoder
	space := make([]byte, OutputSpace)
	scratch := false
	for i, rec := range recs {
		got, err := decodeMessage(&d, rec, space)
		if err != nil || !bytes.Equal(got, msgs[i]) {
			t.Fatalf("message %d: %v", i, err)
		}
		scratch = scratch || d.lits != nil
		d.Compact()
		if d.lits != nil || d.huf.pairs != nil {
			t.Fatalf("message %d: Compact kept the scratch space", i)
		}
	}
	if !scratch {
		t.Fatal("no message used the literal array")
	}
}
