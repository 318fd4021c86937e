package ipc

import (
	"encoding/json"
	"reflect"
	"testing"
)

type fuzzArgs struct {
	Name    string            `json:"name"`
	N       int               `json:"n"`
	F       float64           `json:"f"`
	OK      bool              `json:"ok"`
	IDs     []uint64          `json:"ids"`
	Tags    map[string]string `json:"tags"`
	Nested  *fuzzArgs         `json:"nested"`
	Raw     json.RawMessage   `json:"raw"`
	Unknown any               `json:"unknown"`
}

// FuzzUnmarshalMatchesEncodingJSON checks the fast decoder against
// encoding/json on what routes receive: it must never panic, must reject
// what encoding/json rejects as invalid JSON, and must decode valid input
// to the same value.
func FuzzUnmarshalMatchesEncodingJSON(f *testing.F) {
	for _, s := range []string{
		`{"name":"ann","n":5,"f":1.5,"ok":true,"ids":[1,2],"tags":{"a":"b"},"nested":{"n":1},"raw":[1,{"x":null}],"unknown":{"k":[true]}}`,
		`{"name":"\u00e9\ud83d\ude00","n":-0,"f":1e-7}`, `null`, `{}`, `[]`, `"str"`, `{"n":1.5}`, `{"n":"5"}`,
		`{"name":5}`, `{"ids":[-1]}`, `{"n":99999999999999999999}`, `{"name":"a","name":"b"}`, `{"NAME":"upper"}`,
		`{"raw":}`, `{"tags":{"a":1}}`, `{"nested":{"nested":{"nested":{}}}}`, ` {"ok" : false } `, `{"name":"\x01"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if valid(data) != json.Valid(data) {
			t.Fatalf("valid(%q) = %v, encoding/json says %v", data, valid(data), json.Valid(data))
		}
		var fast, std fuzzArgs
		errFast := unmarshal(data, &fast)
		errStd := json.Unmarshal(data, &std)
		if !json.Valid(data) {
			if errFast == nil {
				t.Fatalf("fast decoder accepted invalid JSON %q", data)
			}
			return
		}
		if (errFast == nil) != (errStd == nil) {
			// Type mismatches may be reported at different points; both
			// must at least agree that the input does not fit.
			t.Fatalf("disagree on %q: fast %v, std %v", data, errFast, errStd)
		}
		if errStd == nil && !reflect.DeepEqual(normalize(fast), normalize(std)) {
			t.Fatalf("decoded %q differently:\nfast %+v\n std %+v", data, fast, std)
		}
	})
}

// normalize drops the raw field's formatting, which may legitimately be
// kept byte for byte or compacted.
func normalize(a fuzzArgs) fuzzArgs {
	if a.Raw != nil {
		var v any
		json.Unmarshal(a.Raw, &v)
		b, _ := json.Marshal(v)
		a.Raw = b
	}
	if a.Nested != nil {
		n := normalize(*a.Nested)
		a.Nested = &n
	}
	return a
}

// The typed paths' JSON library, measured on route-sized args:
// go test -run '^$' -bench 'ArgsDecode|Valid' -count 3 ./ipc/
var benchArgsJSON = []byte(`{"n":1,"name":"hello world","ids":[1,2,3],"ok":true}`)

func BenchmarkArgsDecode(b *testing.B) {
	b.Run("goccy", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var a fuzzArgs
			if err := unmarshal(benchArgsJSON, &a); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var a fuzzArgs
			if err := json.Unmarshal(benchArgsJSON, &a); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkValid(b *testing.B) {
	b.Run("goccy", func(b *testing.B) {
		for b.Loop() {
			valid(benchArgsJSON)
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		for b.Loop() {
			json.Valid(benchArgsJSON)
		}
	})
}
