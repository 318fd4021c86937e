package demo_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/ipcord/ipcord/cmd/ipcord/internal/demo"
	"github.com/ipcord/ipcord/internal/leaktest"
)

func TestFakeFlood(t *testing.T) {
	leaktest.Check(t)
	ctx := testCtx(t)
	f := startFake(t, demo.FakeConfig{Shards: 1, Guilds: 1})
	c := identify(t, ctx, f.GatewayURL(), "any", 0, 1)
	c.waitFor(ctx, func(p wsPayload) bool { return p.T == "GUILD_CREATE" })
	code, body := do(t, "POST", f.URL()+"/_fake/flood", "", map[string]any{
		"shard": 0, "count": 500,
		"events": []any{map[string]any{"t": "TYPING_START", "d": map[string]int{"n": 1}}, map[string]any{"t": "X_TWO"}},
	})
	var r struct {
		Count   int   `json:"count"`
		LastSeq int64 `json:"last_seq"`
	}
	if mustJSON(t, body, &r); code != 200 || r.Count != 500 {
		t.Fatalf("flood = %d %s", code, body)
	}
	for i := range 500 {
		p := c.next(ctx)
		want := [2]string{"TYPING_START", `{"n":1}`}
		if i%2 == 1 {
			want = [2]string{"X_TWO", `{}`}
		}
		if p.T != want[0] || string(p.D) != want[1] {
			t.Fatalf("event %d = %s %s, want %s", i, p.T, p.D, want)
		}
	}
	if code, body := do(t, "POST", f.URL()+"/_fake/flood", "", map[string]any{"shard": 3, "count": 1, "events": []any{map[string]any{"t": "X"}}}); code != 409 {
		t.Fatalf("flood of a shard without a session = %d %s, want 409", code, body)
	}
	if code, _ := do(t, "POST", f.URL()+"/_fake/flood", "", map[string]any{"count": 1}); code != 400 {
		t.Fatalf("flood without events = %d, want 400", code)
	}
}

// FuzzDecodeFlood checks that any body either decodes into a flood with
// a count in range and events with names and JSON data, or fails with
// ErrBadControl.
func FuzzDecodeFlood(f *testing.F) {
	f.Add([]byte(`{"shard":0,"count":1000,"events":[{"t":"MESSAGE_CREATE","d":{"content":"hi"}},{"t":"TYPING_START"}]}`))
	f.Add([]byte(`{"count":-1,"events":[]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		r, evs, err := demo.DecodeFlood(body)
		if err != nil {
			if !errors.Is(err, demo.ErrBadControl) {
				t.Fatalf("error %v is not ErrBadControl", err)
			}
			return
		}
		if r.Count < 1 || r.Shard < 0 || len(evs) != len(r.Events) || len(evs) == 0 {
			t.Fatalf("accepted %q as %+v", body, r)
		}
		for i, e := range r.Events {
			if evs[i].Name() != e.T || e.T == "" || len(e.D) > 0 && !json.Valid(e.D) {
				t.Fatalf("event %d of %q: %+v", i, body, e)
			}
		}
	})
}
