package zstdstream

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"

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
				}
			})
		}
	}
}
