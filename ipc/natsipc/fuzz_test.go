package natsipc

// Seeds live in testdata/fuzz/<FuzzName>/, so plain go test runs them.

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
)

// FuzzDecodeRequest checks that any body decodes to a request or to
// ErrMalformed, never a panic, and that what decodes re-encodes to a body
// that decodes the same.
func FuzzDecodeRequest(f *testing.F) {
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := decodeRequest(body)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v is not ErrMalformed", err)
			}
			return
		}
		if r.timeoutMS < 0 || r.timeoutMS > maxTimeoutMS || !validName([]byte(r.from)) {
			t.Fatalf("decoded out-of-range fields: %+v", r)
		}
		if len(r.args) > 0 && !json.Valid(r.args) {
			t.Fatalf("invalid args accepted: %q", r.args)
		}
		again, err := appendRequest(nil, r.timeoutMS, r.from, r.id, r.meta, r.args)
		if err != nil {
			t.Fatal(err)
		}
		r2, err := decodeRequest(again)
		if err != nil || r2.timeoutMS != r.timeoutMS || r2.from != r.from || !bytes.Equal(r2.id, r.id) || !bytes.Equal(r2.args, r.args) || len(r2.meta) != len(r.meta) {
			t.Fatalf("round trip of %q: %+v, %v; want %+v", again, r2, err, r)
		}
	})
}

// FuzzDecodeReply checks replies the same way.
func FuzzDecodeReply(f *testing.F) {
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := decodeReply(body)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v is not ErrMalformed", err)
			}
			return
		}
		var again []byte
		if r.ok {
			if len(r.data) > 0 && !json.Valid(r.data) {
				t.Fatalf("invalid result accepted: %q", r.data)
			}
			again = appendSuccess(nil, string(r.cluster), r.id, r.data)
		} else {
			again = appendFailure(nil, string(r.cluster), r.id, r.refused, r.code, r.message)
		}
		r2, err := decodeReply(again)
		if err != nil || r2.ok != r.ok || r2.refused != r.refused || !bytes.Equal(r2.cluster, r.cluster) || !bytes.Equal(r2.id, r.id) || r2.code != r.code || r2.message != r.message || !bytes.Equal(r2.data, r.data) {
			t.Fatalf("round trip of %q: %+v, %v; want %+v", again, r2, err, r)
		}
	})
}

// FuzzDecodeHeartbeat checks presence messages: valid ones have a usable
// cluster name and interval, anything else is ErrMalformed.
func FuzzDecodeHeartbeat(f *testing.F) {
	f.Fuzz(func(t *testing.T, body []byte) {
		h, err := decodeHeartbeat(body)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v is not ErrMalformed", err)
			}
			return
		}
		if !ValidCluster(h.Cluster) || h.IntervalMS <= 0 || h.IntervalMS > maxTimeoutMS {
			t.Fatalf("accepted %+v", h)
		}
	})
}
