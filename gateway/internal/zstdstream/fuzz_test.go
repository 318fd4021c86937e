package zstdstream

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// FuzzDifferential compresses data with klauspost/compress/zstd's encoder
// (level, window and message cuts from the other arguments) as a
// zstd-stream, one frame flushed after each message, sometimes closed and
// followed by a second frame, and checks that zstdstream and klauspost's
// decoder both give back every message exactly.
func FuzzDifferential(f *testing.F) {
	f.Add([]byte(`{"t":"MESSAGE_CREATE","s":2,"op":0,"d":{"content":"hi","channel_id":"1234"}}`), uint8(0), uint8(10), uint64(7))
	f.Add(bytes.Repeat([]byte("abcabcabd"), 300), uint8(3), uint8(0), uint64(1<<60|3))
	f.Fuzz(func(t *testing.T, data []byte, level, window uint8, cuts uint64) {
		lvl := zstd.EncoderLevel(1 + level%4)
		wsize := 1 << (10 + window%11)
		r := rand.New(rand.NewPCG(cuts, 0))
		// Repeats make long matches and offsets across messages.
		src := bytes.Repeat(data, 1+int(cuts>>60))
		var msgs [][]byte
		for len(src) > 0 {
			n := min(len(src), r.IntN(2*len(data)+2))
			msgs = append(msgs, src[:n])
			src = src[n:]
		}
		closeAt := -1
		if cuts&1 != 0 && len(msgs) > 1 {
			closeAt = r.IntN(len(msgs) - 1)
		}
		recs := encodeFrames(t, msgs, closeAt, zstd.WithEncoderLevel(lvl), zstd.WithWindowSize(wsize))
		kd := newKlauspost(t)
		defer kd.dec.Close()
		checkMessages(t, recs, msgs, func(i int, got []byte) {
			if i == closeAt+1 {
				// klauspost's reader takes the end of a message after a
				// frame's end for the end of the stream: a new frame needs
				// a reset.
				kd.dec.Reset(&kd.src)
			}
			theirs, err := kd.message(recs[i])
			if err != nil {
				t.Fatalf("klauspost, message %d: %v", i, err)
			}
			if !bytes.Equal(got, theirs) {
				t.Fatalf("message %d: klauspost gives %d bytes, zstdstream %d", i, len(theirs), len(got))
			}
		})
	})
}

// FuzzDecode feeds any bytes, cut into two messages where the first byte
// says: zstdstream must not panic, must fail only with its errors, and
// must never make more than a block's worth per unit. When it and
// klauspost's decoder both accept the stream, they must agree.
func FuzzDecode(f *testing.F) {
	f.Fuzz(func(t *testing.T, stream []byte) {
		if len(stream) == 0 {
			return
		}
		cut := 1 + int(stream[0])*(len(stream)-1)/256
		var d Decoder
		d.MaxWindow = 1 << 20
		space := make([]byte, OutputSpace)
		var out []byte
		for _, m := range [][]byte{stream[1:cut], stream[cut:]} {
			for len(m) > 0 {
				n, used, err := d.Decode(space, m)
				if err != nil {
					if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrWindowTooLarge) && !errors.Is(err, ErrUnsupported) {
						t.Fatalf("untyped error %v", err)
					}
					return
				}
				if n > MaxBlockSize || used <= 0 || used > len(m) {
					t.Fatalf("Decode made %d bytes from %d of %d", n, used, len(m))
				}
				out = append(out, space[:n]...)
				m = m[used:]
			}
		}
		kd, err := zstd.NewReader(bytes.NewReader(stream[1:]), zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxWindow(1<<20), zstd.WithDecoderLowmem(true), zstd.IgnoreChecksum(true))
		if err != nil {
			t.Fatal(err)
		}
		defer kd.Close()
		theirs, err := io.ReadAll(kd)
		if err == nil && !bytes.Equal(out, theirs) {
			t.Fatalf("zstdstream gives %d bytes, klauspost %d", len(out), len(theirs))
		}
	})
}

// encodeFrames is encodeStream, but closes the frame after message closeAt
// (writing its last block and checksum) and starts a new one.
func encodeFrames(t testing.TB, msgs [][]byte, closeAt int, opts ...zstd.EOption) [][]byte {
	t.Helper()
	var buf bytes.Buffer
	opts = append([]zstd.EOption{zstd.WithEncoderConcurrency(1)}, opts...)
	enc, err := zstd.NewWriter(&buf, opts...)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for i, m := range msgs {
		enc.Write(m)
		if i == closeAt {
			enc.Close()
			enc.Reset(&buf)
		} else {
			enc.Flush()
		}
		out = append(out, bytes.Clone(buf.Bytes()))
		buf.Reset()
	}
	return out
}

// klauspost reads a zstd-stream message by message with klauspost's
// decoder, as the gateway did before zstdstream.
type klauspost struct {
	src msgReader
	dec *zstd.Decoder
	buf []byte
}

// msgReader reads one message, then reports the end of its input.
type msgReader struct{ b []byte }

func (r *msgReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.b)
	r.b = r.b[n:]
	return n, nil
}

func newKlauspost(t testing.TB) *klauspost {
	k := &klauspost{buf: make([]byte, MaxBlockSize+1)}
	dec, err := zstd.NewReader(&k.src, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true))
	if err != nil {
		t.Fatal(err)
	}
	k.dec = dec
	return k
}

func (k *klauspost) message(m []byte) ([]byte, error) {
	k.src.b = m
	var out []byte
	for len(k.src.b) > 0 {
		n, err := k.dec.Read(k.buf)
		out = append(out, k.buf[:n]...)
		if err != nil && err != io.EOF {
			return out, err
		}
		if n == 0 && err == io.EOF {
			break
		}
	}
	return out, nil
}
