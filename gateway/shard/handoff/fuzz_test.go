package handoff_test

import (
	"errors"
	"testing"

	"github.com/ipcord/ipcord/gateway/shard/handoff"
)

// DecodeLease never panics, and what it accepts can be resumed.
func FuzzDecodeLease(f *testing.F) {
	f.Add([]byte(`{"shard":1,"shard_count":4,"session":{"session_id":"abc","seq":42,"resume_gateway_url":"wss://x"},"state":{"n":1},"token":"t"}`))
	f.Add([]byte(`{"shard":0,"shard_count":1,"session":{"session_id":"","seq":0},"token":"t"}`))
	f.Add([]byte(`{"shard":4,"shard_count":4,"session":{"session_id":"a","seq":-1},"token":""}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		l, err := handoff.DecodeLease(b)
		if err != nil {
			if !errors.Is(err, handoff.ErrBadLease) {
				t.Fatalf("error %v does not match ErrBadLease", err)
			}
			return
		}
		if l.Shard < 0 || l.Shard >= l.ShardCount || l.Session.Seq < 0 || l.Token == "" {
			t.Fatalf("accepted %+v", l)
		}
	})
}
