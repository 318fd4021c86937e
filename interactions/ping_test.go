package interactions

import (
	"encoding/json"
	"testing"
)

// FuzzIsPing checks the PING shortcut against encoding/json: whenever it
// says PING, the full decoder must read a valid object whose type is 1.
func FuzzIsPing(f *testing.F) {
	for _, s := range []string{
		`{"application_id":"1","id":"2","token":"t","type":1,"user":{"id":"5"},"version":1}`,
		`{"type":1}`, ` { "type" : 1 } `, `{"type":2}`, `{"type":1,"type":2}`, `{"type":2,"type":1}`,
		`{"data":{"type":1},"type":3}`, `{"type":10}`, `{"type":1.5}`, `{"type":1e0}`, `{"typ\u0065":2}`,
		`{"a":"}\"","type":1}`, `{"type":1`, `{"type":1}x`, `[{"type":1}]`, `{"a":[1,{"b":"]"}],"type":1}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if !isPing(b) {
			return
		}
		var v struct {
			Type *json.Number `json:"type"`
		}
		d := json.Unmarshal(b, &v)
		if d == nil && (v.Type == nil || v.Type.String() != "1") {
			t.Fatalf("isPing(%q) but the type is %v", b, v.Type)
		}
	})
}

func TestIsPing(t *testing.T) {
	for s, want := range map[string]bool{
		`{"application_id":"1","id":"2","token":"t","type":1,"user":{"id":"5","username":"a\"}"},"version":1}`: true,
		` { "type" : 1 } `:             true,
		`{"type":2}`:                   false,
		`{"type":1,"type":2}`:          false,
		`{"type":2,"type":1}`:          true,
		`{"data":{"type":1},"type":3}`: false,
		`{"type":10}`:                  false,
		`{"type":1.0}`:                 false,
		`{"typ\u0065":1}`:              false, // left to the decoder
		`{"type":1`:                    false,
		`{"type":1}x`:                  false,
		`[{"type":1}]`:                 false,
	} {
		if got := isPing([]byte(s)); got != want {
			t.Errorf("isPing(%s) = %v, want %v", s, got, want)
		}
	}
}
