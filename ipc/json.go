package ipc

import (
	"fmt"

	gojson "github.com/goccy/go-json"
)

// The typed paths (Func and Methods arguments, results, a Client's args and
// results) use github.com/goccy/go-json: on the small structs routes take
// it decodes 6.5× faster than encoding/json with 3 allocations instead of
// 10 (BenchmarkArgsDecode, BENCHMARKS.md), and it behaves as encoding/json does for the struct
// tags and types routes use. The frame envelope has its own codec
// (internal/wire).

// valid reports whether data is one valid JSON value: a json.RawMessage
// a handler returns or a caller passes is checked before it goes on the
// wire. goccy's checker is 2.6× encoding/json's on route-sized values and
// agrees with it (FuzzUnmarshalMatchesEncodingJSON compares them).
func valid(data []byte) bool { return gojson.Valid(data) }

// marshal encodes v as JSON.
func marshal(v any) ([]byte, error) { return gojson.Marshal(v) }

// unmarshal decodes data into v. A panic in the decoder on hostile input
// becomes an error: it must never take a connection's goroutine down.
func unmarshal(data []byte, v any) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("json: decoder failed on this input: %v", p)
		}
	}()
	return gojson.Unmarshal(data, v)
}
