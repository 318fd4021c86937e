package wsproto

import (
	"bytes"
	"strings"
	"testing"
)

// TestDecoderMemoryBounded runs 100k small messages through a decoder, fed
// with frames cut across Feed calls, and checks the buffer never grows past
// its starting size.
func TestDecoderMemoryBounded(t *testing.T) {
	var frames []byte
	for i := range 100 {
		frames = AppendFrame(frames, Server, OpText, true, false, [4]byte{}, []byte(strings.Repeat("x", i)))
	}
	d := Decoder{Role: Client}
	msgs, maxCap := 0, 0
	for round := range 1000 {
		// Feed in 777-byte pieces so frames straddle Feed calls.
		for off := 0; off < len(frames); off += 777 {
			d.Feed(frames[off:min(off+777, len(frames))])
			for {
				_, ok, err := d.Next()
				if err != nil {
					t.Fatalf("round %d: %v", round, err)
				}
				if !ok {
					break
				}
				msgs++
			}
			maxCap = max(maxCap, cap(d.buf))
		}
	}
	if msgs != 100_000 {
		t.Fatalf("decoded %d messages, want 100000", msgs)
	}
	if maxCap > bufSize {
		t.Fatalf("buffer grew to %d bytes for messages under 100 bytes, want at most %d", maxCap, bufSize)
	}
}

func TestDecoderMemoryBoundedReadFrom(t *testing.T) {
	var frames []byte
	for i := range 100_000 {
		frames = AppendFrame(frames, Server, OpBinary, true, false, [4]byte{}, []byte(strings.Repeat("y", i%50)))
	}
	d := Decoder{Role: Client}
	r := bytes.NewReader(frames)
	msgs := 0
	for r.Len() > 0 {
		if _, err := d.ReadFrom(r); err != nil {
			t.Fatal(err)
		}
		for {
			_, ok, err := d.Next()
			if err != nil {
				t.Fatal(err)
			}
			if !ok {
				break
			}
			msgs++
		}
		if cap(d.buf) > bufSize {
			t.Fatalf("buffer grew to %d bytes", cap(d.buf))
		}
	}
	if msgs != 100_000 {
		t.Fatalf("decoded %d messages, want 100000", msgs)
	}
}

// TestDecoderShrinksAfterHugeMessage checks a 900 KiB message (whole and
// fragmented) does not pin its buffers once the stream is back to small
// messages.
func TestDecoderShrinksAfterHugeMessage(t *testing.T) {
	huge := bytes.Repeat([]byte("h"), 900<<10)
	for _, fragmented := range []bool{false, true} {
		var data []byte
		if fragmented {
			data = AppendFrame(data, Server, OpBinary, false, false, [4]byte{}, huge[:1000])
			data = AppendFrame(data, Server, OpContinuation, true, false, [4]byte{}, huge[1000:])
		} else {
			data = AppendFrame(data, Server, OpBinary, true, false, [4]byte{}, huge)
		}
		data = AppendFrame(data, Server, OpText, true, false, [4]byte{}, []byte("small"))
		d := Decoder{Role: Client}
		r := bytes.NewReader(data)
		var sizes []int
		for r.Len() > 0 {
			if _, err := d.ReadFrom(r); err != nil {
				t.Fatal(err)
			}
			for {
				m, ok, err := d.Next()
				if err != nil {
					t.Fatal(err)
				}
				if !ok {
					break
				}
				sizes = append(sizes, len(m.Payload))
			}
		}
		if len(sizes) != 2 || sizes[0] != len(huge) || sizes[1] != 5 {
			t.Fatalf("fragmented=%v: message sizes %v", fragmented, sizes)
		}
		d.Feed(AppendFrame(nil, Server, OpText, true, false, [4]byte{}, []byte("next")))
		if _, ok, err := d.Next(); !ok || err != nil {
			t.Fatalf("fragmented=%v: next message: ok=%v err=%v", fragmented, ok, err)
		}
		if cap(d.buf) > keepCap || cap(d.msg) > keepCap {
			t.Fatalf("fragmented=%v: buffers still %d and %d bytes after the huge message", fragmented, cap(d.buf), cap(d.msg))
		}
	}
}

// TestDecoderGrowthFollowsArrivedBytes announces a frame within the limit
// and sends a trickle of it: the buffer must not jump to the announced size.
func TestDecoderGrowthFollowsArrivedBytes(t *testing.T) {
	d := Decoder{Role: Client, MaxMessage: 64 << 20}
	head := []byte{0x82, 127, 0, 0, 0, 0, 0x03, 0, 0, 0} // 48 MiB
	d.Feed(head)
	if _, ok, err := d.Next(); ok || err != nil {
		t.Fatalf("ok=%v err=%v, want a pending frame", ok, err)
	}
	for range 3 {
		if _, err := d.ReadFrom(strings.NewReader("abcdefgh")); err != nil {
			t.Fatal(err)
		}
	}
	if cap(d.buf) > 2*bufSize {
		t.Fatalf("buffer is %d bytes after 34 received, want at most %d", cap(d.buf), 2*bufSize)
	}
}
