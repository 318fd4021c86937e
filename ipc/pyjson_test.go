package ipc

import (
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
)

// Python's json writes NaN, Infinity and -Infinity by default: they land
// in floats and interfaces, and anywhere else are an error naming the spot.
func TestUnmarshalPython(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	type Inner struct{ V float64 }
	type Embedded struct{ E float64 }
	type withEmbedded struct {
		Embedded
		N int
	}
	tests := []struct {
		name string
		in   string
		into func() any // a pointer to decode into
		want any        // what it points to after, compared with NaN == NaN
		bad  string     // an error wrapping ErrNonFinite, containing this
	}{
		{"float fields", `{"x": NaN, "y": Infinity, "z": -Infinity}`,
			func() any { return new(struct{ X, Y, Z float64 }) },
			struct{ X, Y, Z float64 }{nan, inf, -inf}, ""},
		{"float32 and pointers", `{"x": Infinity, "y": -Infinity}`,
			func() any {
				return new(struct {
					X float32
					Y *float64
				})
			},
			struct {
				X float32
				Y *float64
			}{float32(inf), ptr(-inf)}, ""},
		{"tag, case-insensitive key, neighbours kept", `{"ratio": NaN, "COUNT": 3, "name": "NaN"}`,
			func() any {
				return new(struct {
					R     float64 `json:"ratio"`
					Count int
					Name  string `json:"name"`
				})
			},
			struct {
				R     float64 `json:"ratio"`
				Count int
				Name  string `json:"name"`
			}{nan, 3, "NaN"}, ""},
		{"slice", `{"a": [1, NaN, Infinity]}`,
			func() any { return new(struct{ A []float64 }) },
			struct{ A []float64 }{[]float64{1, nan, inf}}, ""},
		{"array drops the rest", `[NaN, Infinity]`,
			func() any { return new([1]float64) },
			[1]float64{nan}, ""},
		{"map of floats", `{"m": {"k": NaN}}`,
			func() any { return new(struct{ M map[string]float64 }) },
			struct{ M map[string]float64 }{map[string]float64{"k": nan}}, ""},
		{"map of structs", `{"a": {"v": Infinity}, "b": {"v": 2}}`,
			func() any { return new(map[string]Inner) },
			map[string]Inner{"a": {inf}, "b": {2}}, ""},
		{"integer map keys", `{"7": NaN}`,
			func() any { return new(map[int]float64) },
			map[int]float64{7: nan}, ""},
		{"embedded struct", `{"e": -Infinity, "n": 1}`,
			func() any { return new(withEmbedded) },
			withEmbedded{Embedded{-inf}, 1}, ""},
		{"any", `{"a": [1, NaN], "b": {"c": Infinity}, "d": "Infinity"}`,
			func() any { return new(any) },
			any(map[string]any{"a": []any{1.0, nan}, "b": map[string]any{"c": inf}, "d": "Infinity"}), ""},
		{"bare value", `-Infinity`,
			func() any { return new(float64) },
			-inf, ""},
		{"raw JSON keeps Python's text", `{"x": NaN, "y": {"z": [Infinity]}}`,
			func() any { return new(struct{ X, Y json.RawMessage }) },
			struct{ X, Y json.RawMessage }{json.RawMessage("NaN"), json.RawMessage(`{"z": [Infinity]}`)}, ""},
		{"a key without a field is ignored", `{"zz": NaN, "x": 1}`,
			func() any { return new(struct{ X float64 }) },
			struct{ X float64 }{1}, ""},
		{"int", `{"n": NaN}`, func() any { return new(struct{ N int }) }, nil, "NaN at .n cannot be held by int"},
		{"string", `{"s": [Infinity]}`, func() any { return new(struct{ S []string }) }, nil, "Infinity at .s[0] cannot be held by string"},
		{"bool in a map", `{"m": {"k": -Infinity}}`, func() any { return new(struct{ M map[string]bool }) }, nil, "-Infinity at .m.k cannot be held by bool"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := tt.into()
			err := unmarshalPython([]byte(tt.in), v)
			if tt.bad != "" {
				if !errors.Is(err, ErrNonFinite) || !strings.Contains(err.Error(), tt.bad) {
					t.Fatalf("got %v, want ErrNonFinite saying %q", err, tt.bad)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := reflect.ValueOf(v).Elem().Interface(); !sameValue(got, tt.want) {
				t.Fatalf("got %#v, want %#v", got, tt.want)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

// sameValue is reflect.DeepEqual with NaN equal to NaN.
func sameValue(a, b any) bool {
	ja, erra := pyMarshal(a)
	jb, errb := pyMarshal(b)
	return erra == nil && errb == nil && ja == jb && reflect.TypeOf(a) == reflect.TypeOf(b)
}

// pyMarshal encodes v as JSON with NaN and the infinities as strings,
// which makes NaN comparable.
func pyMarshal(v any) (string, error) {
	var walk func(x any) any
	walk = func(x any) any {
		rv := reflect.ValueOf(x)
		switch rv.Kind() {
		case reflect.Float32, reflect.Float64:
			if f := rv.Float(); math.IsNaN(f) || math.IsInf(f, 0) {
				return "non-finite " + formatNonFinite(f)
			}
		case reflect.Pointer:
			if !rv.IsNil() {
				return []any{"ptr", walk(rv.Elem().Interface())}
			}
		case reflect.Slice, reflect.Array:
			if _, raw := x.(json.RawMessage); raw {
				return string(x.(json.RawMessage))
			}
			out := make([]any, rv.Len())
			for i := range out {
				out[i] = walk(rv.Index(i).Interface())
			}
			return out
		case reflect.Map:
			out := map[string]any{}
			for _, k := range rv.MapKeys() {
				b, _ := json.Marshal(k.Interface())
				out[string(b)] = walk(rv.MapIndex(k).Interface())
			}
			return out
		case reflect.Struct:
			out := map[string]any{}
			for i := range rv.NumField() {
				out[rv.Type().Field(i).Name] = walk(rv.Field(i).Interface())
			}
			return out
		}
		return x
	}
	b, err := json.Marshal(walk(v))
	return string(b), err
}

func TestPyCleanRefuses(t *testing.T) {
	for _, in := range []string{`{"x": Nan}`, `{"x": NaN`, `[Infinity,]`, `-Infinityx`, `{"x": NaN} 1`, `{NaN: 1}`, "[\"\x01\", NaN]"} {
		if _, _, err := pyClean([]byte(in)); err == nil {
			if validPython([]byte(in)) {
				t.Errorf("%q accepted", in)
			}
		} else if !errors.Is(err, errPythonJSON) {
			t.Errorf("%q: untyped error %v", in, err)
		}
	}
	// Without the tokens, the message comes back as it was, untouched.
	in := []byte(`{"s": "NaN and Infinity in a string"}`)
	if out, sites, err := pyClean(in); err != nil || sites != nil || &out[0] != &in[0] {
		t.Errorf("pyClean copied or changed a message without tokens: %q %v %v", out, sites, err)
	}
}

// FuzzUnmarshalPython: whatever a Python peer sends, the decoder never
// panics; Python's JSON decodes into any with each token where the scanner
// saw it; plain JSON is left to the JSON decoder untouched.
func FuzzUnmarshalPython(f *testing.F) {
	f.Add([]byte(`{"x": NaN, "y": [Infinity, -Infinity], "s": "NaN"}`))
	f.Add([]byte(`{"a": {"b": {"c": [1, 2, NaN]}}}`))
	f.Add([]byte(`[NaN]`))
	f.Add([]byte(`-Infinity`))
	f.Add([]byte(`{"x": "Infinity\"", "y": NaN}`))
	f.Add([]byte(`{"n": 1e400, "x": NaN}`))
	f.Fuzz(func(t *testing.T, p []byte) {
		clean, sites, err := pyClean(p)
		if err != nil {
			if !errors.Is(err, errPythonJSON) {
				t.Fatalf("untyped error %v", err)
			}
			if json.Valid(p) {
				t.Fatalf("valid JSON %q refused: %v", p, err)
			}
			return
		}
		if json.Valid(p) && (sites != nil || string(clean) != string(p)) {
			t.Fatalf("valid JSON %q changed to %q", p, clean)
		}
		for _, s := range sites {
			if tok := pySpan(p, s.path); string(tok) != string(p[s.off:s.end]) || formatNonFinite(s.val) != string(tok) {
				t.Fatalf("%q: site %s spans %q, token %q", p, pathString(s.path), tok, p[s.off:s.end])
			}
		}
		var v any
		if err := unmarshalPython(p, &v); err != nil {
			var plain any
			if unmarshal(clean, &plain) == nil {
				t.Fatalf("%q: decoding into any: %v", p, err)
			}
			return
		}
		for _, s := range sites {
			got, ok := lookup(v, s.path)
			if !ok {
				continue // a repeated key: a later value won
			}
			if f, isFloat := got.(float64); !isFloat || formatNonFinite(f) != formatNonFinite(s.val) || !(math.IsNaN(f) || math.IsInf(f, 0)) {
				t.Fatalf("%q: at %s got %#v, want %s", p, pathString(s.path), got, formatNonFinite(s.val))
			}
		}
		var typed struct {
			A float64
			B int
			C []any
			D map[string]float64
			E json.RawMessage
			F *float32
		}
		if err := unmarshalPython(p, &typed); err != nil && strings.Contains(err.Error(), "panic") {
			t.Fatalf("%q: %v", p, err)
		}
	})
}

// lookup follows path through a decoded any; false when the path is not
// there as such (a repeated key whose later value is not a container).
func lookup(v any, path []pyStep) (any, bool) {
	for _, s := range path {
		switch x := v.(type) {
		case map[string]any:
			if s.index >= 0 {
				return nil, false
			}
			var ok bool
			if v, ok = x[s.key]; !ok {
				return nil, false
			}
		case []any:
			if s.index < 0 || s.index >= len(x) {
				return nil, false
			}
			v = x[s.index]
		default:
			return nil, false
		}
	}
	return v, true
}
