package gateway

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
	"unicode/utf8"
)

// FuzzEnvelope checks that the prefix scan never panics and, whenever it
// accepts a valid JSON message, agrees with the full encoding/json parse:
// the same op, s and t, and the same d, or (when keys follow d, which
// Discord never sends) a d that is not valid JSON, so that decoding it
// fails instead of giving a wrong value, and from which the re-read gets d.
func FuzzEnvelope(f *testing.F) {
	f.Add([]byte(`{"t":"MESSAGE_CREATE","s":2,"op":0,"d":{"content":"hi"}}`))
	f.Fuzz(func(t *testing.T, msg []byte) {
		var fast, slow envelope
		fastOK := parseFast(msg, &fast)
		slowErr := parseSlow(msg, &slow)
		if slowErr != nil && !errors.Is(slowErr, ErrDecode) {
			t.Fatalf("untyped error %v", slowErr)
		}
		if err := parseEnvelope(msg, &envelope{}); err != nil && !errors.Is(err, ErrDecode) {
			t.Fatalf("untyped error %v", err)
		}
		if !fastOK || !json.Valid(msg) {
			return
		}
		if slowErr != nil {
			t.Fatalf("fast path accepted %q, encoding/json refused it: %v", msg, slowErr)
		}
		if fast.op != slow.op || fast.seq != slow.seq || fast.hasSeq != slow.hasSeq {
			t.Fatalf("fast %+v, slow %+v", fast, slow)
		}
		if utf8.Valid(fast.name) && !bytes.Equal(fast.name, slow.name) {
			t.Fatalf("name fast %q slow %q", fast.name, slow.name)
		}
		if !bytes.Equal(fast.d, slow.d) && json.Valid(fast.d) {
			t.Fatalf("d fast %q slow %q", fast.d, slow.d)
		}
		// What Dispatch.Decode falls back on finds d from the fast path's
		// region alone.
		if fast.unread {
			if d, ok := rereadRest(fast.d); !ok || !bytes.Equal(d, slow.d) {
				t.Fatalf("d re-read from %q: %q (%v), slow %q", fast.d, d, ok, slow.d)
			}
		}
	})
}

// checkInflateErr fails on errors that are not the typed ones.
func checkInflateErr(t *testing.T, err error) {
	if err != nil && !errors.Is(err, ErrDecompress) && !errors.Is(err, ErrMessageTooBig) {
		t.Fatalf("untyped error %v", err)
	}
}

// FuzzZlibInflate feeds a byte stream cut into messages at each sync-flush
// suffix, as a WebSocket peer could send it.
func FuzzZlibInflate(f *testing.F) {
	f.Fuzz(func(t *testing.T, stream []byte) {
		z := newZlibInflater(1 << 20)
		for len(stream) > 0 {
			i := bytes.Index(stream, zlibSuffix)
			var m []byte
			if i < 0 {
				m, stream = stream, nil
			} else {
				m, stream = stream[:i+4], stream[i+4:]
			}
			out, ok, err := z.inflate(m)
			checkInflateErr(t, err)
			if err != nil {
				return
			}
			if ok && len(out) > 1<<20 {
				t.Fatalf("output of %d bytes over the limit", len(out))
			}
		}
	})
}

// FuzzZstdInflate feeds two messages, split where the first byte says.
func FuzzZstdInflate(f *testing.F) {
	f.Fuzz(func(t *testing.T, stream []byte) {
		if len(stream) == 0 {
			return
		}
		cut := 1 + int(stream[0])*(len(stream)-1)/256
		for _, fast := range []bool{false, true} {
			z := newZstdInflater(1<<20, 1<<20, fast)
			defer z.close()
			for _, m := range [][]byte{stream[1:cut], stream[cut:]} {
				out, err := z.inflate(m)
				checkInflateErr(t, err)
				if err != nil {
					break
				}
				if len(out) > 1<<20 {
					t.Fatalf("output of %d bytes over the limit", len(out))
				}
			}
		}
	})
}
