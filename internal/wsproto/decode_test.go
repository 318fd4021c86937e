package wsproto_test

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/ipcord/ipcord/internal/wsproto"
)

// msg is a decoded message with its payload copied, for comparisons.
type msg struct {
	Op         wsproto.Opcode
	Payload    string
	Compressed bool
	Code       wsproto.CloseCode
	Reason     string
}

func copyMsg(m wsproto.Message) msg {
	return msg{m.Op, string(m.Payload), m.Compressed, m.CloseCode, m.CloseReason}
}

// drain returns every message the decoder can produce now, and the error
// that stopped it, if any.
func drain(d *wsproto.Decoder) ([]msg, error) {
	var out []msg
	for {
		m, ok, err := d.Next()
		if err != nil {
			return out, err
		}
		if !ok {
			return out, nil
		}
		out = append(out, copyMsg(m))
	}
}

// frame builds a frame the way a peer of the other role would, with
// control over every header bit. role is the SENDER's role.
func frame(role wsproto.Role, op wsproto.Opcode, fin bool, payload string) []byte {
	return wsproto.AppendFrame(nil, role, op, fin, false, [4]byte{0xde, 0xad, 0xbe, 0xef}, []byte(payload))
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func TestDecoderProtocolErrors(t *testing.T) {
	c, s := wsproto.Client, wsproto.Server
	withRSV1 := func(f []byte) []byte { f[0] |= 0x40; return f }
	withBits := func(f []byte, bits byte) []byte { f[0] |= bits; return f }
	setOp := func(f []byte, op byte) []byte { f[0] = f[0]&0xf0 | op; return f }
	closeBody := func(code int, reason string) string {
		return string([]byte{byte(code >> 8), byte(code)}) + reason
	}
	tests := []struct {
		name   string
		local  wsproto.Role // the decoder's role; frames are sent by the other one
		dec    wsproto.Decoder
		input  []byte
		code   wsproto.CloseCode
		tooBig bool
		before int    // messages returned before the error
		reason string // a part of the error's reason, when it matters
	}{
		{name: "reserved data opcode 3", local: c, input: setOp(frame(s, wsproto.OpBinary, true, "x"), 3), code: 1002},
		{name: "reserved data opcode 7", local: s, input: setOp(frame(c, wsproto.OpBinary, true, "x"), 7), code: 1002},
		{name: "reserved control opcode 0xB", local: c, input: setOp(frame(s, wsproto.OpPing, true, ""), 0xb), code: 1002},
		{name: "reserved control opcode 0xF", local: s, input: setOp(frame(c, wsproto.OpPing, true, ""), 0xf), code: 1002},
		{name: "RSV1 not negotiated", local: c, input: withRSV1(frame(s, wsproto.OpText, true, "x")), code: 1002},
		{name: "RSV2", local: c, dec: wsproto.Decoder{AllowRSV1: true}, input: withBits(frame(s, wsproto.OpText, true, "x"), 0x20), code: 1002},
		{name: "RSV3", local: s, dec: wsproto.Decoder{AllowRSV1: true}, input: withBits(frame(c, wsproto.OpText, true, "x"), 0x10), code: 1002},
		{name: "RSV1 on control frame", local: c, dec: wsproto.Decoder{AllowRSV1: true}, input: withRSV1(frame(s, wsproto.OpPing, true, "")), code: 1002},
		{name: "RSV1 on continuation", local: c, dec: wsproto.Decoder{AllowRSV1: true},
			input: cat(withRSV1(frame(s, wsproto.OpText, false, "a")), withRSV1(frame(s, wsproto.OpContinuation, true, "b"))), code: 1002},
		{name: "unmasked frame to server", local: s, input: frame(s, wsproto.OpText, true, "hi"), code: 1002},
		{name: "masked frame to client", local: c, input: frame(c, wsproto.OpText, true, "hi"), code: 1002},
		{name: "fragmented ping", local: c, input: frame(s, wsproto.OpPing, false, "x"), code: 1002},
		{name: "fragmented close", local: s, input: frame(c, wsproto.OpClose, false, ""), code: 1002},
		{name: "ping over 125 bytes", local: c, input: frame(s, wsproto.OpPing, true, strings.Repeat("p", 126)), code: 1002, reason: "longer than 125"},
		{name: "ping with a non-minimal 16-bit length", local: s, input: []byte{0x89, 0x80 | 126, 0, 5, 0, 0, 0, 0, 'h', 'e', 'l', 'l', 'o'}, code: 1002, reason: "minimal"},
		{name: "ping with a non-minimal 64-bit length", local: c, input: []byte{0x89, 127, 0, 0, 0, 0, 0, 0, 0, 5, 'h', 'e', 'l', 'l', 'o'}, code: 1002, reason: "minimal"},
		{name: "text with a non-minimal 16-bit length", local: c, input: []byte{0x81, 126, 0, 2, 'h', 'i'}, code: 1002, reason: "minimal"},
		{name: "binary with a non-minimal 64-bit length", local: c, input: []byte{0x82, 127, 0, 0, 0, 0, 0, 0, 0xff, 0xff}, code: 1002, reason: "minimal"},
		{name: "close reason not UTF-8, validation off", local: s, input: frame(c, wsproto.OpClose, true, closeBody(1000, "ok\xff")), code: 1007},
		{name: "close over 125 bytes", local: s, input: frame(c, wsproto.OpClose, true, closeBody(1000, strings.Repeat("r", 124))), code: 1002},
		{name: "continuation without start", local: c, input: frame(s, wsproto.OpContinuation, true, "x"), code: 1002},
		{name: "continuation after a complete message", local: s,
			input: cat(frame(c, wsproto.OpText, true, "done"), frame(c, wsproto.OpContinuation, true, "x")), code: 1002, before: 1},
		{name: "new text during fragmented message", local: c,
			input: cat(frame(s, wsproto.OpText, false, "a"), frame(s, wsproto.OpText, true, "b")), code: 1002},
		{name: "new binary during fragmented message", local: s,
			input: cat(frame(c, wsproto.OpBinary, false, "a"), frame(c, wsproto.OpPing, true, ""), frame(c, wsproto.OpBinary, true, "b")), code: 1002, before: 1},
		{name: "64-bit length with top bit", local: c, input: []byte{0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 1}, code: 1002},
		{name: "close with 1-byte body", local: c, input: frame(s, wsproto.OpClose, true, "\x03"), code: 1002},
		{name: "close code 1005 on the wire", local: s, input: frame(c, wsproto.OpClose, true, closeBody(1005, "")), code: 1002},
		{name: "close code 999", local: c, input: frame(s, wsproto.OpClose, true, closeBody(999, "")), code: 1002},
		{name: "close code 1004", local: c, input: frame(s, wsproto.OpClose, true, closeBody(1004, "")), code: 1002},
		{name: "close code 5000", local: c, input: frame(s, wsproto.OpClose, true, closeBody(5000, "")), code: 1002},
		{name: "close reason not UTF-8", local: c, dec: wsproto.Decoder{ValidateUTF8: true},
			input: frame(s, wsproto.OpClose, true, closeBody(1000, "\xff")), code: 1007},
		{name: "text not UTF-8", local: s, dec: wsproto.Decoder{ValidateUTF8: true},
			input: frame(c, wsproto.OpText, true, "ok\xc3"), code: 1007},
		{name: "fragmented text not UTF-8", local: c, dec: wsproto.Decoder{ValidateUTF8: true},
			input: cat(frame(s, wsproto.OpText, false, "\xe2\x82"), frame(s, wsproto.OpContinuation, false, "\xac"), frame(s, wsproto.OpContinuation, true, "\xff")), code: 1007},
		{name: "frame over limit", local: c, dec: wsproto.Decoder{MaxMessage: 10},
			input: frame(s, wsproto.OpBinary, true, strings.Repeat("x", 11))[:4], code: 1009, tooBig: true},
		{name: "fragments over limit", local: s, dec: wsproto.Decoder{MaxMessage: 10},
			input: cat(frame(c, wsproto.OpBinary, false, "123456"), frame(c, wsproto.OpContinuation, true, "12345")), code: 1009, tooBig: true},
		{name: "default limit 1 MiB", local: c, input: []byte{0x82, 127, 0, 0, 0, 0, 0, 0x10, 0, 1}, code: 1009, tooBig: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := tt.dec
			d.Role = tt.local
			d.Feed(tt.input)
			got, err := drain(&d)
			var pe *wsproto.ProtocolError
			if !errors.As(err, &pe) {
				t.Fatalf("got messages %v and error %v, want a *ProtocolError", got, err)
			}
			if pe.Code != tt.code || !errors.Is(err, wsproto.ErrProtocol) {
				t.Errorf("error %v: code %d, want %d (errors.Is ErrProtocol: %v)", err, pe.Code, tt.code, errors.Is(err, wsproto.ErrProtocol))
			}
			if !strings.Contains(pe.Reason, tt.reason) {
				t.Errorf("reason %q, want it to say %q", pe.Reason, tt.reason)
			}
			if errors.Is(err, wsproto.ErrMessageTooBig) != tt.tooBig {
				t.Errorf("errors.Is(%v, ErrMessageTooBig) = %v, want %v", err, !tt.tooBig, tt.tooBig)
			}
			if len(got) != tt.before {
				t.Errorf("%d messages before the error, want %d: %v", len(got), tt.before, got)
			}
			// The decoder stays failed, whatever comes next.
			d.Feed(frame(1-tt.local, wsproto.OpText, true, "later"))
			if _, ok, err2 := d.Next(); ok || err2 != err {
				t.Errorf("after the error Next gave ok=%v err=%v, want the same error", ok, err2)
			}
			if _, err3 := d.ReadFrom(strings.NewReader("x")); err3 != err {
				t.Errorf("after the error ReadFrom gave %v, want the same error", err3)
			}
		})
	}
}

// stream is a conversation with every kind of frame; want is what a
// decoder must make of it.
func stream(sender wsproto.Role, bigLen int) (data []byte, want []msg) {
	big := strings.Repeat("0123456789abcdef", bigLen/16+1)[:bigLen]
	mid := strings.Repeat("m", 300)
	var none [4]byte
	key := func(i byte) [4]byte {
		if sender == wsproto.Server {
			return none
		}
		return [4]byte{i, i + 1, i + 2, i + 3}
	}
	f := func(op wsproto.Opcode, fin bool, p string) {
		data = wsproto.AppendFrame(data, sender, op, fin, false, key(byte(len(data))), []byte(p))
	}
	f(wsproto.OpText, true, "Hello")
	f(wsproto.OpBinary, true, "")
	f(wsproto.OpText, false, "Hel")
	f(wsproto.OpPing, true, "are you there")
	f(wsproto.OpContinuation, false, "")
	f(wsproto.OpContinuation, true, "lo, world")
	f(wsproto.OpBinary, true, mid)
	f(wsproto.OpBinary, false, big[:100])
	f(wsproto.OpContinuation, true, big[100:])
	f(wsproto.OpPong, true, "")
	f(wsproto.OpText, true, "héllo ✓")
	data = wsproto.AppendClose(data, sender, key(9), 4000, "resuming")
	want = []msg{
		{Op: wsproto.OpText, Payload: "Hello"},
		{Op: wsproto.OpBinary, Payload: ""},
		{Op: wsproto.OpPing, Payload: "are you there"},
		{Op: wsproto.OpText, Payload: "Hello, world"},
		{Op: wsproto.OpBinary, Payload: mid},
		{Op: wsproto.OpBinary, Payload: big},
		{Op: wsproto.OpPong, Payload: ""},
		{Op: wsproto.OpText, Payload: "héllo ✓"},
		{Op: wsproto.OpClose, Payload: "\x0f\xa0resuming", Code: 4000, Reason: "resuming"},
	}
	return data, want
}

func equalMsgs(t *testing.T, what string, got, want []msg) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d messages, want %d", what, len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			g, w := got[i], want[i]
			if len(g.Payload) > 40 {
				g.Payload = g.Payload[:40] + "…"
			}
			if len(w.Payload) > 40 {
				w.Payload = w.Payload[:40] + "…"
			}
			t.Fatalf("%s: message %d is %+v, want %+v", what, i, g, w)
		}
	}
}

// feedInPieces feeds data cut at the given offsets, draining after each,
// and fails on any error or leftover byte.
func feedInPieces(t *testing.T, local wsproto.Role, data []byte, cuts []int) []msg {
	t.Helper()
	d := wsproto.Decoder{Role: local, ValidateUTF8: true}
	got, err := decodeInto(&d, data, cuts)
	if err != nil {
		t.Fatalf("cuts %v: %v", cuts, err)
	}
	if d.Buffered() != 0 {
		t.Fatalf("cuts %v: %d bytes left over", cuts, d.Buffered())
	}
	return got
}

// decodeInto runs data through d in the given pieces and returns the
// messages and the error that ended them.
func decodeInto(d *wsproto.Decoder, data []byte, cuts []int) ([]msg, error) {
	var out []msg
	prev := 0
	for _, c := range append(cuts, len(data)) {
		d.Feed(data[prev:c])
		prev = c
		ms, err := drain(d)
		out = append(out, ms...)
		if err != nil {
			return out, err
		}
	}
	return out, nil
}

func TestDecoderEverySplit(t *testing.T) {
	for _, local := range []wsproto.Role{wsproto.Client, wsproto.Server} {
		t.Run(local.String(), func(t *testing.T) {
			data, want := stream(1-local, 70000)
			equalMsgs(t, "whole", feedInPieces(t, local, data, nil), want)
			// One byte at a time.
			var ones []int
			for i := 1; i < len(data); i++ {
				ones = append(ones, i)
			}
			equalMsgs(t, "one byte at a time", feedInPieces(t, local, data, ones), want)
			// Random pieces.
			rng := rand.New(rand.NewPCG(1, 2))
			for range 50 {
				var cuts []int
				for c := rng.IntN(40); c < len(data); c += 1 + rng.IntN(3000) {
					cuts = append(cuts, c)
				}
				equalMsgs(t, "random pieces", feedInPieces(t, local, data, cuts), want)
			}
			// Two pieces, cut at every offset, of a smaller stream (7- and
			// 16-bit length forms) so the quadratic work stays quick.
			data, want = stream(1-local, 1000)
			for cut := 0; cut <= len(data); cut++ {
				equalMsgs(t, "two pieces", feedInPieces(t, local, data, []int{cut}), want)
			}
		})
	}
}

func TestDecoderReadFrom(t *testing.T) {
	data, want := stream(wsproto.Server, 70000)
	for name, r := range map[string]func() io.Reader{
		"bytes.Reader":  func() io.Reader { return bytes.NewReader(data) },
		"one byte":      func() io.Reader { return iotest.OneByteReader(bytes.NewReader(data)) },
		"half":          func() io.Reader { return iotest.HalfReader(bytes.NewReader(data)) },
		"data with EOF": func() io.Reader { return iotest.DataErrReader(bytes.NewReader(data)) },
	} {
		t.Run(name, func(t *testing.T) {
			d := wsproto.Decoder{Role: wsproto.Client}
			src := r()
			var got []msg
			for {
				_, err := d.ReadFrom(src)
				ms, derr := drain(&d)
				if derr != nil {
					t.Fatal(derr)
				}
				got = append(got, ms...)
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			equalMsgs(t, name, got, want)
		})
	}
}

// TestDecoderHugeLengthRefusedFromHeader announces 6 GiB under a large
// limit's default and checks the refusal comes from the header alone,
// without allocating anything near that size.
func TestDecoderHugeLengthRefusedFromHeader(t *testing.T) {
	head := []byte{0x82, 127, 0, 0, 0, 1, 0x80, 0, 0, 0} // 6 GiB
	for _, viaReadFrom := range []bool{false, true} {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		d := wsproto.Decoder{Role: wsproto.Client, MaxMessage: 64 << 20}
		if viaReadFrom {
			// The body never ends: an endless reader of zeros.
			src := io.MultiReader(bytes.NewReader(head), zeros{})
			if _, err := d.ReadFrom(src); err != nil {
				t.Fatal(err)
			}
		} else {
			d.Feed(head)
		}
		_, ok, err := d.Next()
		runtime.ReadMemStats(&after)
		if ok || !errors.Is(err, wsproto.ErrMessageTooBig) {
			t.Fatalf("ReadFrom=%v: Next gave ok=%v err=%v, want ErrMessageTooBig", viaReadFrom, ok, err)
		}
		if grew := after.TotalAlloc - before.TotalAlloc; grew > 1<<20 {
			t.Fatalf("ReadFrom=%v: allocated %d bytes before refusing", viaReadFrom, grew)
		}
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// TestDecoderLimitExact checks a message of exactly MaxMessage bytes passes
// and one byte more is refused, whole or fragmented.
func TestDecoderLimitExact(t *testing.T) {
	const limit = 1000
	for _, fragmented := range []bool{false, true} {
		for _, n := range []int{limit, limit + 1} {
			p := strings.Repeat("z", n)
			var data []byte
			if fragmented {
				data = cat(frame(wsproto.Client, wsproto.OpBinary, false, p[:n/2]), frame(wsproto.Client, wsproto.OpContinuation, true, p[n/2:]))
			} else {
				data = frame(wsproto.Client, wsproto.OpBinary, true, p)
			}
			d := wsproto.Decoder{Role: wsproto.Server, MaxMessage: limit}
			d.Feed(data)
			got, err := drain(&d)
			if n <= limit && (err != nil || len(got) != 1 || len(got[0].Payload) != n) {
				t.Errorf("fragmented=%v, %d bytes: got %d messages, err %v; want the message", fragmented, n, len(got), err)
			}
			if n > limit && !errors.Is(err, wsproto.ErrMessageTooBig) {
				t.Errorf("fragmented=%v, %d bytes: err %v, want ErrMessageTooBig", fragmented, n, err)
			}
		}
	}
}

func TestDecoderCompressedFlag(t *testing.T) {
	f1 := frame(wsproto.Server, wsproto.OpText, false, "\xff\x00") // compressed bytes need not be UTF-8
	f1[0] |= 0x40
	d := wsproto.Decoder{Role: wsproto.Client, AllowRSV1: true, ValidateUTF8: true}
	d.Feed(cat(f1, frame(wsproto.Server, wsproto.OpContinuation, true, "\x01"), frame(wsproto.Server, wsproto.OpText, true, "plain")))
	got, err := drain(&d)
	if err != nil {
		t.Fatal(err)
	}
	equalMsgs(t, "compressed", got, []msg{
		{Op: wsproto.OpText, Payload: "\xff\x00\x01", Compressed: true},
		{Op: wsproto.OpText, Payload: "plain"},
	})
}

func TestDecoderCloseForms(t *testing.T) {
	d := wsproto.Decoder{Role: wsproto.Server, ValidateUTF8: true}
	key := [4]byte{9, 8, 7, 6}
	d.Feed(wsproto.AppendClose(nil, wsproto.Client, key, 0, ""))
	d.Feed(wsproto.AppendClose(nil, wsproto.Client, key, 4999, ""))
	d.Feed(wsproto.AppendClose(nil, wsproto.Client, key, wsproto.CloseNormal, "bye ✓"))
	got, err := drain(&d)
	if err != nil {
		t.Fatal(err)
	}
	equalMsgs(t, "close", got, []msg{
		{Op: wsproto.OpClose, Payload: "", Code: wsproto.CloseNoStatus},
		{Op: wsproto.OpClose, Payload: "\x13\x87", Code: 4999},
		{Op: wsproto.OpClose, Payload: "\x03\xe8bye ✓", Code: wsproto.CloseNormal, Reason: "bye ✓"},
	})
}

// TestDecoderUTF8AcrossFragments checks runes cut by fragment boundaries
// are accepted, and that invalid text is refused at the first bad fragment
// instead of when the message ends.
func TestDecoderUTF8AcrossFragments(t *testing.T) {
	s := wsproto.Server
	text := "a€𝄞z" // 1-, 3- and 4-byte runes
	var data []byte
	for i := range len(text) {
		op := wsproto.OpContinuation
		if i == 0 {
			op = wsproto.OpText
		}
		data = append(data, frame(s, op, i == len(text)-1, text[i:i+1])...)
	}
	d := wsproto.Decoder{Role: wsproto.Client, ValidateUTF8: true}
	d.Feed(data)
	got, err := drain(&d)
	if err != nil || len(got) != 1 || got[0].Payload != text {
		t.Fatalf("got %v, %v; want %q", got, err, text)
	}

	d = wsproto.Decoder{Role: wsproto.Client, ValidateUTF8: true}
	d.Feed(frame(s, wsproto.OpText, false, "ok \xf0\x9d")) // a cut rune: fine so far
	if _, ok, err := d.Next(); ok || err != nil {
		t.Fatalf("cut rune: ok=%v err=%v, want more bytes needed", ok, err)
	}
	d.Feed(frame(s, wsproto.OpContinuation, false, "\x84\x9e \xc0\xaf")) // overlong: invalid
	_, _, err = d.Next()
	var pe *wsproto.ProtocolError
	if !errors.As(err, &pe) || pe.Code != wsproto.CloseInvalidPayload {
		t.Fatalf("invalid fragment: %v, want close 1007 before the message ends", err)
	}
}

// TestDecoderNoAllocSteadyState checks decoding allocates nothing once the
// buffers are warm: whole frames, fragmented messages and control frames.
func TestDecoderNoAllocSteadyState(t *testing.T) {
	for _, local := range []wsproto.Role{wsproto.Client, wsproto.Server} {
		p := strings.Repeat("x", 1024)
		data := cat(
			frame(1-local, wsproto.OpBinary, true, p),
			frame(1-local, wsproto.OpText, false, p[:100]),
			frame(1-local, wsproto.OpPing, true, "ping"),
			frame(1-local, wsproto.OpContinuation, true, p[100:]),
		)
		d := wsproto.Decoder{Role: local, ValidateUTF8: true}
		run := func() {
			// Feed copies, and unmasking happens in the copy, so the same
			// bytes can be fed again.
			d.Feed(data)
			for n := 0; n < 3; n++ {
				if _, ok, err := d.Next(); !ok || err != nil {
					t.Fatalf("message %d: ok=%v err=%v", n, ok, err)
				}
			}
		}
		run()
		if allocs := testing.AllocsPerRun(200, run); allocs != 0 {
			t.Errorf("%s: %v allocations per run, want 0", local, allocs)
		}
	}
}
