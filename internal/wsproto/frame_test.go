package wsproto_test

import (
	"bytes"
	"encoding/hex"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/ipcord/ipcord/internal/wsproto"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var rfcKey = [4]byte{0x37, 0xfa, 0x21, 0x3d}

// TestAppendFrameRFCExamples pins the encoder to the examples of RFC 6455
// section 5.7, byte for byte.
func TestAppendFrameRFCExamples(t *testing.T) {
	var none [4]byte
	tests := []struct {
		name string
		got  []byte
		want string
	}{
		{"unmasked Hello", wsproto.AppendFrame(nil, wsproto.Server, wsproto.OpText, true, false, none, []byte("Hello")),
			"81 05 48 65 6c 6c 6f"},
		{"masked Hello", wsproto.AppendFrame(nil, wsproto.Client, wsproto.OpText, true, false, rfcKey, []byte("Hello")),
			"81 85 37 fa 21 3d 7f 9f 4d 51 58"},
		{"fragmented Hel+lo", wsproto.AppendFrame(
			wsproto.AppendFrame(nil, wsproto.Server, wsproto.OpText, false, false, none, []byte("Hel")),
			wsproto.Server, wsproto.OpContinuation, true, false, none, []byte("lo")),
			"01 03 48 65 6c 80 02 6c 6f"},
		{"unmasked ping Hello", wsproto.AppendFrame(nil, wsproto.Server, wsproto.OpPing, true, false, none, []byte("Hello")),
			"89 05 48 65 6c 6c 6f"},
		{"masked pong Hello", wsproto.AppendFrame(nil, wsproto.Client, wsproto.OpPong, true, false, rfcKey, []byte("Hello")),
			"8a 85 37 fa 21 3d 7f 9f 4d 51 58"},
		{"server key ignored", wsproto.AppendFrame(nil, wsproto.Server, wsproto.OpText, true, false, rfcKey, []byte("Hello")),
			"81 05 48 65 6c 6c 6f"},
		{"rsv1", wsproto.AppendFrame(nil, wsproto.Server, wsproto.OpBinary, true, true, none, nil), "c2 00"},
		{"close no body", wsproto.AppendClose(nil, wsproto.Server, none, 0, "ignored"), "88 00"},
		{"close 1000 bye", wsproto.AppendClose(nil, wsproto.Server, none, wsproto.CloseNormal, "bye"), "88 05 03 e8 62 79 65"},
		{"masked close 1001", wsproto.AppendClose(nil, wsproto.Client, rfcKey, wsproto.CloseGoingAway, ""),
			"88 82 37 fa 21 3d 34 13"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if want := unhex(t, tt.want); !bytes.Equal(tt.got, want) {
				t.Fatalf("got % x\nwant % x", tt.got, want)
			}
		})
	}
}

// TestAppendFrameLengthForms checks the 16-bit and 64-bit length forms with
// the RFC's 256-byte and 64 KiB binary examples.
func TestAppendFrameLengthForms(t *testing.T) {
	var none [4]byte
	for _, tt := range []struct {
		n    int
		head string
	}{
		{125, "82 7d"},
		{126, "82 7e 00 7e"},
		{256, "82 7e 01 00"},
		{65535, "82 7e ff ff"},
		{65536, "82 7f 00 00 00 00 00 01 00 00"},
	} {
		payload := bytes.Repeat([]byte{0xab}, tt.n)
		got := wsproto.AppendFrame(nil, wsproto.Server, wsproto.OpBinary, true, false, none, payload)
		head := unhex(t, tt.head)
		if !bytes.Equal(got[:len(head)], head) || !bytes.Equal(got[len(head):], payload) {
			t.Errorf("length %d: header % x, want % x (total %d bytes)", tt.n, got[:len(head)], head, len(got))
		}
		masked := wsproto.AppendFrame(nil, wsproto.Client, wsproto.OpBinary, true, false, rfcKey, payload)
		if len(masked) != len(got)+4 || masked[1]&0x80 == 0 {
			t.Errorf("length %d: masked frame has %d bytes, mask bit %v", tt.n, len(masked), masked[1]&0x80 != 0)
		}
	}
}

// TestMaskMatchesBytewise compares the 8-bytes-at-a-time masking with the
// RFC's definition for every length around the word boundaries.
func TestMaskMatchesBytewise(t *testing.T) {
	key := [4]byte{1, 2, 3, 0xf0}
	for n := range 80 {
		payload := make([]byte, n)
		for i := range payload {
			payload[i] = byte(i * 7)
		}
		got := wsproto.AppendFrame(nil, wsproto.Client, wsproto.OpBinary, true, false, key, payload)
		body := got[len(got)-n:]
		for i := range payload {
			if body[i] != payload[i]^key[i%4] {
				t.Fatalf("length %d: byte %d is %#x, want %#x", n, i, body[i], payload[i]^key[i%4])
			}
		}
	}
}

func TestAppendFrameNoAllocWithRoom(t *testing.T) {
	payload := make([]byte, 1024)
	dst := make([]byte, 0, 2048)
	key := wsproto.MaskKey()
	allocs := testing.AllocsPerRun(100, func() {
		dst = wsproto.AppendFrame(dst[:0], wsproto.Client, wsproto.OpBinary, true, false, key, payload)
		dst = wsproto.AppendClose(dst, wsproto.Client, key, wsproto.CloseNormal, "done")
	})
	if allocs != 0 {
		t.Fatalf("AppendFrame+AppendClose allocated %v times per run, want 0", allocs)
	}
}

func TestAppendCloseTruncatesReasonOnRuneBoundary(t *testing.T) {
	var none [4]byte
	reason := strings.Repeat("é", 100) // 200 bytes, 2 per rune
	f := wsproto.AppendClose(nil, wsproto.Server, none, wsproto.CloseNormal, reason)
	if int(f[1]) > 125 {
		t.Fatalf("close payload is %d bytes, over 125", f[1])
	}
	got := f[4:]
	if len(got) != 122 || !utf8.Valid(got) {
		t.Fatalf("reason cut to %d bytes (valid UTF-8: %v), want 122 valid bytes", len(got), utf8.Valid(got))
	}
	ascii := strings.Repeat("x", 200)
	f = wsproto.AppendClose(nil, wsproto.Server, none, wsproto.CloseNormal, ascii)
	if len(f[4:]) != 123 {
		t.Fatalf("ASCII reason cut to %d bytes, want 123", len(f[4:]))
	}
}

func TestCloseCodeValid(t *testing.T) {
	valid := map[wsproto.CloseCode]bool{}
	for c := 1000; c <= 1003; c++ {
		valid[wsproto.CloseCode(c)] = true
	}
	for c := 1007; c <= 1014; c++ {
		valid[wsproto.CloseCode(c)] = true
	}
	for c := 3000; c <= 4999; c++ {
		valid[wsproto.CloseCode(c)] = true
	}
	for c := range 65536 {
		if got := wsproto.CloseCode(c).Valid(); got != valid[wsproto.CloseCode(c)] {
			t.Errorf("CloseCode(%d).Valid() = %v", c, got)
		}
	}
}

func TestMaskKeyVaries(t *testing.T) {
	seen := map[[4]byte]bool{}
	for range 64 {
		seen[wsproto.MaskKey()] = true
	}
	if len(seen) < 60 {
		t.Fatalf("64 mask keys gave only %d distinct values", len(seen))
	}
}
