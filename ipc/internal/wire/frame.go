package wire

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
)

// Type is a frame's "t" field.
type Type uint8

// Frame types. TypeUnknown is a well-formed frame with a "t" this version
// does not know: peers ignore it (answering "unsupported" when it has an id).
const (
	TypeUnknown Type = iota
	TypeHello
	TypeRequest
	TypeResult
	TypeError
	TypeCancel
)

var typeNames = [...]string{"", "hello", "req", "res", "err", "cancel"}

func (t Type) String() string {
	if int(t) < len(typeNames) && t != TypeUnknown {
		return typeNames[t]
	}
	return "unknown"
}

// MaxID is the largest request id: ids must survive a trip through a
// JavaScript or Python float.
const MaxID = 1<<53 - 1

// Frame is one decoded frame. Which fields are set depends on Type.
// Raw fields (Args, Data) alias the decoded buffer.
type Frame struct {
	Type Type
	// ID is the request id of req, res, err and cancel frames. HasID tells
	// whether an id was present (for frames of unknown type).
	ID    uint64
	HasID bool

	// hello
	Version    int
	Identifier string
	Routes     []string
	Encodings  []string
	MaxMessage int64 // the largest message the sender accepts; 0: not said

	// req
	Route     string
	Args      json.RawMessage
	TimeoutMS int64
	Meta      map[string]string

	// res
	Data json.RawMessage

	// err
	Code    string
	Message string
}

// ErrMalformed is returned for input that is not a valid frame.
var ErrMalformed = errors.New("wire: malformed frame")

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrMalformed}, args...)...)
}

// Decode parses one frame. Raw values in the result alias b.
func Decode(b []byte) (Frame, error) {
	var f Frame
	d := decoder{b: b}
	d.ws()
	if !d.eat('{') {
		return f, malformed("not a JSON object")
	}
	var rawID []byte
	var haveT bool
	d.ws()
	if !d.eat('}') {
		for {
			d.ws()
			key, err := d.key()
			if err != nil {
				return f, err
			}
			d.ws()
			if !d.eat(':') {
				return f, malformed("missing ':' after key %q", key)
			}
			d.ws()
			start := d.i
			if err := d.skipValue(0); err != nil {
				return f, err
			}
			val := b[start:d.i]
			switch string(key) {
			case "t":
				if len(val) < 2 || val[0] != '"' {
					return f, malformed("t is not a string")
				}
				f.Type = typeOf(val)
				haveT = true
			case "id":
				rawID = val
			case "v":
				n, err := strconv.Atoi(string(val))
				if err != nil {
					return f, malformed("v is not an integer")
				}
				f.Version = n
			case "route":
				f.Route, err = decodeString(val)
			case "args":
				f.Args = val
			case "data":
				f.Data = val
			case "timeout_ms":
				n, ok := parseUint(val)
				if !ok {
					return f, malformed("timeout_ms is not a non-negative integer below 2^53")
				}
				f.TimeoutMS = int64(n)
			case "meta":
				f.Meta, err = decodeNullable[map[string]string](val)
			case "code":
				f.Code, err = decodeString(val)
			case "message":
				f.Message, err = decodeString(val)
			case "routes":
				f.Routes, err = decodeNullable[[]string](val)
			case "enc":
				f.Encodings, err = decodeNullable[[]string](val)
			case "max":
				if f.MaxMessage, err = strconv.ParseInt(string(val), 10, 64); err != nil || f.MaxMessage < 0 {
					return f, malformed("max is not a non-negative integer")
				}
			}
			if err != nil {
				return f, malformed("%s: %v", key, err)
			}
			d.ws()
			if d.eat('}') {
				break
			}
			if !d.eat(',') {
				return f, malformed("expected ',' or '}' at offset %d", d.i)
			}
		}
	}
	d.ws()
	if d.i != len(b) {
		return f, malformed("trailing data after frame")
	}
	if !haveT {
		return f, malformed("missing t")
	}
	if rawID != nil {
		if err := f.setID(rawID); err != nil {
			return f, err
		}
	}
	switch f.Type {
	case TypeHello:
		if f.Identifier == "" {
			return f, malformed("hello without id")
		}
	case TypeRequest, TypeResult, TypeError, TypeCancel:
		if !f.HasID {
			return f, malformed("%s without id", f.Type)
		}
	}
	if f.Type == TypeRequest && f.Route == "" {
		return f, malformed("req without route")
	}
	if f.Type == TypeError && f.Code == "" {
		return f, malformed("err without code")
	}
	return f, nil
}

func (f *Frame) setID(raw []byte) error {
	if f.Type == TypeHello {
		s, err := decodeString(raw)
		if err != nil {
			return malformed("hello id: %v", err)
		}
		f.Identifier = s
		return nil
	}
	n, ok := parseUint(raw)
	if !ok || n > MaxID {
		return malformed("id is not an integer in [0, 2^53)")
	}
	f.ID, f.HasID = n, true
	return nil
}

// parseUint parses a JSON integer of up to 16 digits (2^53 has 16) without
// the allocation strconv's error path forces on its argument.
func parseUint(b []byte) (uint64, bool) {
	if len(b) == 0 || len(b) > 16 || (len(b) > 1 && b[0] == '0') {
		return 0, false
	}
	var n uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	return n, true
}

// typeOf maps a quoted "t" value to its Type without decoding it (a value
// with escapes is simply unknown).
func typeOf(quoted []byte) Type {
	switch string(quoted) {
	case `"hello"`:
		return TypeHello
	case `"req"`:
		return TypeRequest
	case `"res"`:
		return TypeResult
	case `"err"`:
		return TypeError
	case `"cancel"`:
		return TypeCancel
	}
	return TypeUnknown
}

// decodeString decodes a JSON string value, without encoding/json for the
// common case of no escapes.
func decodeString(v []byte) (string, error) {
	if len(v) < 2 || v[0] != '"' {
		return "", errors.New("not a string")
	}
	inner := v[1 : len(v)-1]
	for _, c := range inner {
		if c == '\\' {
			var s string
			err := json.Unmarshal(v, &s)
			return s, err
		}
	}
	return string(inner), nil
}

// decodeNullable decodes the rarer fields; it returns the value rather than
// filling a pointer into the Frame so that the Frame itself stays on the
// stack.
func decodeNullable[T any](v []byte) (T, error) {
	var t T
	if string(v) == "null" {
		return t, nil
	}
	err := json.Unmarshal(v, &t)
	return t, err
}
