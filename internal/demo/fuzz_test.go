package demo_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/ipcord/ipcord/internal/demo"
)

// FuzzDecodeDispatch checks that any body either decodes into a dispatch
// with an event name and JSON data, or fails with ErrBadControl.
func FuzzDecodeDispatch(f *testing.F) {
	f.Add([]byte(`{"t":"MESSAGE_CREATE","d":{"content":"hi","guild_id":"4398046511105"}}`))
	f.Add([]byte(`{"t":"X","shard":1}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		d, err := demo.DecodeDispatch(body)
		if err != nil {
			if !errors.Is(err, demo.ErrBadControl) {
				t.Fatalf("error %v is not ErrBadControl", err)
			}
			return
		}
		if d.T == "" || !json.Valid(d.D) || (d.Shard != nil && *d.Shard < 0) {
			t.Fatalf("accepted %q as %+v", body, d)
		}
	})
}

// FuzzDecodeFault checks that any body either decodes into a known fault
// with sane parameters, or fails with ErrBadControl.
func FuzzDecodeFault(f *testing.F) {
	f.Add([]byte(`{"name":"reconnect","shard":0}`))
	f.Add([]byte(`{"name":"rest","route":"POST /channels/*/messages","status":429,"retry_after_ms":50}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := demo.DecodeFault(body)
		if err != nil {
			if !errors.Is(err, demo.ErrBadControl) {
				t.Fatalf("error %v is not ErrBadControl", err)
			}
			return
		}
		if r.Name == "" || r.Shard < 0 || r.MS < 0 || r.Times < 0 {
			t.Fatalf("accepted %q as %+v", body, r)
		}
	})
}
