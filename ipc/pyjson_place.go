package ipc

import (
	"encoding/json"
	"math"
	"reflect"
	"strconv"
	"strings"
)

// Decoding Python's JSON into Go values: the message is decoded from the
// clean copy pyClean made (null where a NaN, Infinity or -Infinity stood),
// then each of those is put where it stood, walking the Go value by
// reflection as the JSON decoder would have.

// unmarshalPython decodes data, which may be Python's JSON, into v: as
// unmarshal does, and with every NaN, Infinity and -Infinity put where v
// can hold it (an error wrapping ErrNonFinite where it cannot).
func unmarshalPython(data []byte, v any) error {
	clean, sites, err := pyClean(data)
	if err != nil {
		return err
	}
	if err := unmarshal(clean, v); err != nil {
		return err
	}
	for _, site := range sites {
		if err := placeNonFinite(reflect.ValueOf(v), data, site); err != nil {
			return err
		}
	}
	return nil
}

var (
	jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()
	rawMessageType  = reflect.TypeFor[json.RawMessage]()
)

// placeNonFinite sets the value at site.path under v (a pointer, already
// decoded from the clean copy, which had null there) to site.val. data is
// the message, for a json.RawMessage on the way, which gets its bytes.
func placeNonFinite(v reflect.Value, data []byte, site pySite) error {
	p := placer{data: data, site: site}
	return p.place(v, 0)
}

// placer puts one non-finite value, site, into a decoded Go value.
type placer struct {
	data []byte
	site pySite
}

func (p *placer) cannot(t reflect.Type) error {
	return &nonFiniteError{val: p.site.val, path: p.site.path, typ: t}
}

// place puts the value into v, which stands at depth steps down the path.
func (p *placer) place(v reflect.Value, depth int) error {
	for {
		if v.Type() == rawMessageType {
			// Raw JSON gets Python's text as it came.
			if !v.CanSet() {
				return p.cannot(v.Type())
			}
			v.SetBytes(append([]byte(nil), pySpan(p.data, p.site.path[:depth])...))
			return nil
		}
		switch v.Kind() {
		case reflect.Pointer:
			if v.IsNil() {
				if !v.CanSet() {
					return p.cannot(v.Type())
				}
				v.Set(reflect.New(v.Type().Elem()))
			}
			v = v.Elem()
			continue
		case reflect.Interface:
			if v.NumMethod() != 0 {
				return p.cannot(v.Type())
			}
			if depth == len(p.site.path) {
				if !v.CanSet() {
					return p.cannot(v.Type())
				}
				v.Set(reflect.ValueOf(p.site.val))
				return nil
			}
			if v.IsNil() {
				return p.cannot(v.Type())
			}
			v = v.Elem() // the map[string]any or []any the decoder made
			continue
		}
		if v.Type().Implements(jsonUnmarshaler) || v.CanAddr() && v.Addr().Type().Implements(jsonUnmarshaler) {
			// It decoded a null there: what it made of it is its own affair.
			return p.cannot(v.Type())
		}
		if depth == len(p.site.path) {
			if (v.Kind() == reflect.Float32 || v.Kind() == reflect.Float64) && v.CanSet() {
				v.SetFloat(p.site.val)
				return nil
			}
			return p.cannot(v.Type())
		}
		step := p.site.path[depth]
		depth++
		switch v.Kind() {
		case reflect.Struct:
			if step.index >= 0 {
				return p.cannot(v.Type())
			}
			f, ok := jsonField(v, step.key)
			if !ok {
				return nil // the decoder ignores a key v has no field for
			}
			v = f
		case reflect.Map:
			if step.index >= 0 || v.IsNil() {
				return p.cannot(v.Type())
			}
			k, ok := mapKey(v.Type().Key(), step.key)
			if !ok {
				return p.cannot(v.Type())
			}
			// A map's values cannot be set in place: set a copy, put it back.
			elem := reflect.New(v.Type().Elem()).Elem()
			if cur := v.MapIndex(k); cur.IsValid() {
				elem.Set(cur)
			}
			if err := p.place(elem, depth); err != nil {
				return err
			}
			v.SetMapIndex(k, elem)
			return nil
		case reflect.Slice, reflect.Array:
			if step.index < 0 {
				return p.cannot(v.Type())
			}
			if step.index >= v.Len() {
				return nil // a fixed array drops what does not fit
			}
			v = v.Index(step.index)
		default:
			return p.cannot(v.Type())
		}
	}
}

func formatNonFinite(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case f > 0:
		return "Infinity"
	}
	return "-Infinity"
}

// mapKey converts a JSON key to a map key as the decoder does for string
// and integer key types.
func mapKey(t reflect.Type, key string) (reflect.Value, bool) {
	k := reflect.New(t).Elem()
	switch t.Kind() {
	case reflect.String:
		k.SetString(key)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, err := strconv.ParseInt(key, 10, t.Bits())
		if err != nil {
			return k, false
		}
		k.SetInt(n)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		n, err := strconv.ParseUint(key, 10, t.Bits())
		if err != nil {
			return k, false
		}
		k.SetUint(n)
	default:
		return k, false
	}
	return k, true
}

// jsonField finds the field of struct v that the JSON decoder fills from
// key, by encoding/json's rules: a tag's name or the field's, fields of
// embedded structs promoted, the shallowest (then the tagged) field winning
// a name, an exact match preferred over a case-insensitive one. Embedded
// nil pointers on the way are allocated.
func jsonField(v reflect.Value, key string) (reflect.Value, bool) {
	index, ok := jsonFieldIndex(v.Type(), key)
	if !ok {
		return reflect.Value{}, false
	}
	for i, x := range index {
		if i > 0 && v.Kind() == reflect.Pointer {
			if v.IsNil() {
				if !v.CanSet() {
					return reflect.Value{}, false
				}
				v.Set(reflect.New(v.Type().Elem()))
			}
			v = v.Elem()
		}
		v = v.Field(x)
	}
	return v, true
}

type fieldCandidate struct {
	name   string
	index  []int
	depth  int
	tagged bool
}

func jsonFieldIndex(t reflect.Type, key string) ([]int, bool) {
	var all []fieldCandidate
	var walk func(t reflect.Type, index []int, depth int)
	walk = func(t reflect.Type, index []int, depth int) {
		if depth > 16 {
			return
		}
		for i := range t.NumField() {
			f := t.Field(i)
			tag := f.Tag.Get("json")
			if tag == "-" {
				continue
			}
			name, _, _ := strings.Cut(tag, ",")
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			idx := append(append([]int(nil), index...), i)
			if f.Anonymous && name == "" && ft.Kind() == reflect.Struct {
				walk(ft, idx, depth+1)
				continue
			}
			if !f.IsExported() {
				continue
			}
			tagged := name != ""
			if !tagged {
				name = f.Name
			}
			all = append(all, fieldCandidate{name: name, index: idx, depth: depth, tagged: tagged})
		}
	}
	walk(t, nil, 0)
	pick := func(match func(string) bool) ([]int, bool) {
		var best []fieldCandidate
		for _, c := range all {
			if !match(c.name) {
				continue
			}
			switch {
			case len(best) == 0 || c.depth < best[0].depth:
				best = []fieldCandidate{c}
			case c.depth == best[0].depth:
				best = append(best, c)
			}
		}
		if len(best) > 1 {
			var tagged []fieldCandidate
			for _, c := range best {
				if c.tagged {
					tagged = append(tagged, c)
				}
			}
			best = tagged
		}
		if len(best) != 1 {
			return nil, false
		}
		return best[0].index, true
	}
	if idx, ok := pick(func(n string) bool { return n == key }); ok {
		return idx, true
	}
	return pick(func(n string) bool { return strings.EqualFold(n, key) })
}
