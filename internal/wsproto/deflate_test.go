package wsproto_test

import (
	"bytes"
	"compress/flate"
	"errors"
	"strings"
	"testing"

	"github.com/ipcord/ipcord/internal/wsproto"
)

// TestDeflateRFCExample pins the decompressor to RFC 7692 section 7.2.3.1:
// "Hello" compressed with the tail removed.
func TestDeflateRFCExample(t *testing.T) {
	var f wsproto.Inflater
	got, err := f.Append(nil, unhex(t, "f2 48 cd c9 c9 07 00"), 0)
	if err != nil || string(got) != "Hello" {
		t.Fatalf("inflate RFC example = %q, %v; want Hello", got, err)
	}
	// The same bytes with BFINAL set (section 7.2.3.3 allows it).
	got, err = f.Append(nil, unhex(t, "f3 48 cd c9 c9 07 00"), 0)
	if err != nil || string(got) != "Hello" {
		t.Fatalf("inflate final-block example = %q, %v; want Hello", got, err)
	}
}

func TestDeflateRoundTrip(t *testing.T) {
	var d wsproto.Deflater
	var f wsproto.Inflater
	big := bytes.Repeat([]byte(`{"guild":"1234","members":[1,2,3]},`), 10000)
	for _, msg := range [][]byte{nil, []byte("x"), []byte("Hello"), big, []byte(strings.Repeat("é✓", 3000))} {
		comp := d.Append([]byte("prefix"), msg)
		if string(comp[:6]) != "prefix" {
			t.Fatalf("Append did not keep dst's contents")
		}
		comp = comp[6:]
		if bytes.HasSuffix(comp, []byte{0, 0, 0xff, 0xff}) {
			t.Fatalf("%d-byte message: sync-flush tail not stripped", len(msg))
		}
		got, err := f.Append([]byte("p"), comp, len(msg)+1)
		if err != nil || !bytes.Equal(got[1:], msg) {
			t.Fatalf("%d-byte message: round trip gave %d bytes, %v", len(msg), len(got)-1, err)
		}
	}
	if comp := d.Append(nil, big); len(comp) > len(big)/20 {
		t.Errorf("repetitive %d bytes compressed to %d; want under 5%%", len(big), len(comp))
	}
}

// TestDeflateInteropStdlib checks both directions against compress/flate,
// which knows nothing of our code: what the standard library sync-flushes
// (tail stripped) we inflate, and what we deflate it inflates.
func TestDeflateInteropStdlib(t *testing.T) {
	msg := bytes.Repeat([]byte("interop "), 5000)
	var buf bytes.Buffer
	w, _ := flate.NewWriter(&buf, flate.DefaultCompression)
	w.Write(msg)
	w.Flush()
	std := bytes.TrimSuffix(buf.Bytes(), []byte{0, 0, 0xff, 0xff})
	var f wsproto.Inflater
	if got, err := f.Append(nil, std, 0); err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("inflating compress/flate output: %d bytes, %v", len(got), err)
	}

	var d wsproto.Deflater
	ours := append(d.Append(nil, msg), 0, 0, 0xff, 0xff)
	r := flate.NewReader(bytes.NewReader(ours))
	got := make([]byte, len(msg)+10)
	n, _ := r.Read(got)
	for n < len(msg) {
		m, err := r.Read(got[n:])
		n += m
		if err != nil {
			break
		}
	}
	if !bytes.Equal(got[:n], msg) {
		t.Fatalf("compress/flate inflated our output to %d bytes, want %d", n, len(msg))
	}
}

// TestInflateBomb: a small message that inflates past the limit stops at
// the limit with close code 1009.
func TestInflateBomb(t *testing.T) {
	var d wsproto.Deflater
	bomb := d.Append(nil, make([]byte, 16<<20)) // 16 MiB of zeros
	if len(bomb) > 100<<10 {
		t.Fatalf("bomb is %d bytes; expected a small one", len(bomb))
	}
	var f wsproto.Inflater
	got, err := f.Append(nil, bomb, 1<<20)
	var pe *wsproto.ProtocolError
	if !errors.As(err, &pe) || pe.Code != wsproto.CloseMessageTooBig || !errors.Is(err, wsproto.ErrMessageTooBig) {
		t.Fatalf("inflating a bomb: %v, want a 1009 ProtocolError", err)
	}
	if len(got) != 0 || cap(got) > 2<<20 {
		t.Errorf("after the bomb: len %d cap %d; want nothing kept past the limit", len(got), cap(got))
	}

	// The limit itself is allowed; one byte more is not.
	exact := d.Append(nil, make([]byte, 1000))
	if got, err := f.Append(nil, exact, 1000); err != nil || len(got) != 1000 {
		t.Fatalf("message exactly at the limit: %d bytes, %v", len(got), err)
	}
	if _, err := f.Append(nil, exact, 999); !errors.Is(err, wsproto.ErrMessageTooBig) {
		t.Fatalf("message one byte over the limit: %v, want ErrMessageTooBig", err)
	}
	// The Inflater is still usable after a refusal.
	if got, err := f.Append(nil, unhex(t, "f2 48 cd c9 c9 07 00"), 0); err != nil || string(got) != "Hello" {
		t.Fatalf("after a refusal: %q, %v", got, err)
	}
}

func TestInflateCorrupt(t *testing.T) {
	var f wsproto.Inflater
	// BTYPE 11 is reserved: invalid DEFLATE.
	_, err := f.Append(nil, []byte{0xff, 0xff, 0xff}, 0)
	var pe *wsproto.ProtocolError
	if !errors.As(err, &pe) || pe.Code != wsproto.CloseInvalidPayload {
		t.Fatalf("corrupt input: %v, want a 1007 ProtocolError", err)
	}
}

func TestAcceptDeflate(t *testing.T) {
	const std = "permessage-deflate; server_no_context_takeover; client_no_context_takeover"
	tests := []struct {
		name   string
		offers []string
		want   string
	}{
		{"none", nil, ""},
		{"other extension", []string{"x-webkit-deflate-frame"}, ""},
		{"bare", []string{"permessage-deflate"}, std},
		{"ours", []string{wsproto.DeflateOffer}, std},
		{"browsers and python websockets", []string{"permessage-deflate; client_max_window_bits"}, std},
		{"client window value", []string{`permessage-deflate; client_max_window_bits="10"`}, std},
		{"server window 15 echoed", []string{"permessage-deflate; server_max_window_bits=15"}, std + "; server_max_window_bits=15"},
		{"server window too small", []string{"permessage-deflate; server_max_window_bits=10"}, ""},
		{"fallback offer", []string{"permessage-deflate; server_max_window_bits=9, permessage-deflate"}, std},
		{"fallback across headers", []string{"permessage-deflate; bogus", "permessage-deflate"}, std},
		{"unknown param", []string{"permessage-deflate; bogus"}, ""},
		{"repeated param", []string{"permessage-deflate; client_no_context_takeover; client_no_context_takeover"}, ""},
		{"takeover with value", []string{"permessage-deflate; server_no_context_takeover=1"}, ""},
		{"window out of range", []string{"permessage-deflate; client_max_window_bits=16"}, ""},
		{"window missing value", []string{"permessage-deflate; server_max_window_bits"}, ""},
		{"empty param", []string{"permessage-deflate;;"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := wsproto.AcceptDeflate(tt.offers)
			if got != tt.want || ok != (tt.want != "") {
				t.Fatalf("AcceptDeflate(%q) = %q, %v; want %q", tt.offers, got, ok, tt.want)
			}
			if ok {
				if on, err := wsproto.CheckDeflateResponse(got); !on || err != nil {
					t.Fatalf("our own answer %q fails the client check: %v", got, err)
				}
			}
		})
	}
}

func TestCheckDeflateResponse(t *testing.T) {
	tests := []struct {
		resp string
		on   bool
		bad  bool
	}{
		{"", false, false},
		{"permessage-deflate; server_no_context_takeover", true, false},
		{"permessage-deflate; server_no_context_takeover; client_no_context_takeover", true, false},
		{"permessage-deflate; server_no_context_takeover; server_max_window_bits=10", true, false},
		{"permessage-deflate", false, true}, // would keep context: we cannot inflate that
		{"permessage-deflate; server_no_context_takeover; client_max_window_bits=10", false, true},
		{"x-other", false, true},
		{"permessage-deflate; server_no_context_takeover, permessage-deflate; server_no_context_takeover", false, true},
		{"permessage-deflate; server_no_context_takeover; server_no_context_takeover", false, true},
		{"permessage-deflate; server_no_context_takeover; server_max_window_bits=99", false, true},
	}
	for _, tt := range tests {
		on, err := wsproto.CheckDeflateResponse(tt.resp)
		if on != tt.on || (err != nil) != tt.bad {
			t.Errorf("CheckDeflateResponse(%q) = %v, %v; want %v, error %v", tt.resp, on, err, tt.on, tt.bad)
		}
		if err != nil && (!errors.Is(err, wsproto.ErrDeflateResponse) || !errors.Is(err, wsproto.ErrHandshake)) {
			t.Errorf("CheckDeflateResponse(%q) error %v does not match ErrDeflateResponse and ErrHandshake", tt.resp, err)
		}
	}
}

// FuzzInflate feeds arbitrary bytes to the decompressor: it must never
// panic, never return more than the limit, and fail only with a
// ProtocolError of code 1007 or 1009.
func FuzzInflate(f *testing.F) {
	var d wsproto.Deflater
	f.Add(d.Append(nil, []byte("Hello, Hello, Hello")), uint16(100))
	f.Add(d.Append(nil, make([]byte, 70000)), uint16(1000))
	f.Add([]byte{0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}, uint16(5))
	f.Add([]byte{0xff}, uint16(0))
	f.Fuzz(func(t *testing.T, data []byte, limit uint16) {
		var in wsproto.Inflater
		got, err := in.Append(nil, data, int(limit))
		max := int(limit)
		if max == 0 {
			max = wsproto.DefaultMaxMessage
		}
		if len(got) > max {
			t.Fatalf("%d bytes returned over the limit %d", len(got), max)
		}
		if err != nil {
			var pe *wsproto.ProtocolError
			if !errors.As(err, &pe) || (pe.Code != wsproto.CloseInvalidPayload && pe.Code != wsproto.CloseMessageTooBig) {
				t.Fatalf("error %v is not a 1007/1009 ProtocolError", err)
			}
			return
		}
		// Whatever inflated must survive a round trip of our own.
		again, err := in.Append(nil, d.Append(nil, got), max)
		if err != nil || !bytes.Equal(again, got) {
			t.Fatalf("round trip of %d inflated bytes: %d bytes, %v", len(got), len(again), err)
		}
	})
}

// FuzzAcceptDeflate: any offer header either is declined or gets an answer
// our own client accepts.
func FuzzAcceptDeflate(f *testing.F) {
	f.Add("permessage-deflate; client_max_window_bits")
	f.Add(wsproto.DeflateOffer)
	f.Add(`permessage-deflate; server_max_window_bits="15", x`)
	f.Add("permessage-deflate; server_max_window_bits=08")
	f.Fuzz(func(t *testing.T, offer string) {
		resp, ok := wsproto.AcceptDeflate([]string{offer})
		if ok != (resp != "") {
			t.Fatalf("AcceptDeflate(%q) = %q, %v", offer, resp, ok)
		}
		if ok {
			if on, err := wsproto.CheckDeflateResponse(resp); !on || err != nil {
				t.Fatalf("answer %q to %q fails the client check: %v", resp, offer, err)
			}
		}
		_, _ = wsproto.CheckDeflateResponse(offer) // must not panic
	})
}
