package ipc

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
)

// Python's json module writes float('nan'), float('inf') and float('-inf')
// as the bare tokens NaN, Infinity and -Infinity (allow_nan is on by
// default), and aiohttp's send_json, better-ipc and Zonis all use it, so a
// Python peer's messages may hold them. They are not JSON: a JSON decoder
// refuses the whole message. Here a message from a Python peer is
// "Python's JSON": JSON plus those three tokens where a number may stand.
//
// The envelope of such a message is decoded from a copy with the tokens
// replaced by null; a route's arguments (and a Python route's result) keep
// them, and decodePython puts them back where the Go type can hold them:
// float32 and float64 values and interfaces (any). Anywhere else they are
// an error wrapping ErrNonFinite, never a silent zero.

// ErrNonFinite: a NaN, Infinity or -Infinity from a Python peer where the
// Go value cannot hold one (only floats and interfaces can). A call whose
// result has one there fails with an error wrapping it; a handler's args
// with one there fail with bad_request, whose message says so.
var ErrNonFinite = errors.New("ipc: a non-finite number (Python's NaN, Infinity or -Infinity) where the Go type cannot hold one")

// nonFiniteError says which token could not go where: it matches
// ErrNonFinite.
type nonFiniteError struct {
	val  float64
	path []pyStep
	typ  reflect.Type
}

func (e *nonFiniteError) Error() string {
	return fmt.Sprintf("%s at %s cannot be held by %s (only floats and interfaces hold Python's NaN, Infinity and -Infinity)",
		formatNonFinite(e.val), pathString(e.path), e.typ)
}

func (e *nonFiniteError) Is(target error) bool { return target == ErrNonFinite }

// errPythonJSON: a message that is not JSON, even as Python writes it.
var errPythonJSON = errors.New("not JSON, even as Python writes it")

// pyStep is one step of a path into a JSON value: an object key, or an
// array index when key is unset (index >= 0).
type pyStep struct {
	key   string
	index int
}

func (s pyStep) String() string {
	if s.index >= 0 {
		return "[" + strconv.Itoa(s.index) + "]"
	}
	return "." + s.key
}

// pySite is one non-finite token of a message: where it is and what it is.
type pySite struct {
	path     []pyStep
	off, end int // the token's bytes in the message
	val      float64
}

func pathString(p []pyStep) string {
	if len(p) == 0 {
		return "the value"
	}
	var b strings.Builder
	for _, s := range p {
		b.WriteString(s.String())
	}
	return b.String()
}

// mayHaveNonFinite is the cheap test that keeps every message without the
// tokens off the slow path: it has neither "NaN" nor "Infinity".
func mayHaveNonFinite(b []byte) bool {
	return bytes.Contains(b, []byte("NaN")) || bytes.Contains(b, []byte("Infinity"))
}

// pyClean returns b with Python's non-finite numbers replaced by null, and
// where they were. b itself comes back (and no sites) when it has none. An
// error means b is not one value of Python's JSON; the JSON decoder that
// reads the clean copy checks the rest (string escapes, UTF-8).
func pyClean(b []byte) ([]byte, []pySite, error) {
	if !mayHaveNonFinite(b) {
		return b, nil, nil
	}
	s := pyScanner{b: b}
	if err := s.document(); err != nil {
		return nil, nil, err
	}
	if len(s.sites) == 0 {
		return b, nil, nil
	}
	out := make([]byte, 0, len(b)+len(s.sites))
	last := 0
	for _, site := range s.sites {
		out = append(out, b[last:site.off]...)
		out = append(out, "null"...)
		last = site.end
	}
	return append(out, b[last:]...), s.sites, nil
}

// validPython reports whether b is one value of Python's JSON.
func validPython(b []byte) bool {
	clean, _, err := pyClean(b)
	return err == nil && valid(clean)
}

// pySpan returns the bytes of the value at path in b (a valid message of
// Python's JSON), or nil when there is none. As JSON decoders do, the last
// of repeated keys wins.
func pySpan(b []byte, path []pyStep) []byte {
	s := pyScanner{b: b, want: path, wantSet: true}
	if s.document() != nil || !s.found {
		return nil
	}
	return b[s.spanOff:s.spanEnd]
}

// pyScanner walks one value of Python's JSON, noting where the
// non-finite tokens are and, when asked, where the value at want is.
type pyScanner struct {
	b     []byte
	i     int
	path  []pyStep
	sites []pySite
	depth int

	want             []pyStep
	wantSet, found   bool
	spanOff, spanEnd int
}

// maxPyDepth bounds nesting, so a hostile message cannot exhaust the stack.
const maxPyDepth = 10000

func (s *pyScanner) document() error {
	if err := s.value(); err != nil {
		return err
	}
	s.space()
	if s.i != len(s.b) {
		return s.fail("data after the value")
	}
	return nil
}

func (s *pyScanner) fail(what string) error {
	return fmt.Errorf("%w: %s at byte %d", errPythonJSON, what, s.i)
}

func (s *pyScanner) space() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// atWant reports whether the scanner's path is the one asked for.
func (s *pyScanner) atWant() bool {
	if !s.wantSet || len(s.path) != len(s.want) {
		return false
	}
	for i := range s.path {
		if s.path[i] != s.want[i] {
			return false
		}
	}
	return true
}

func (s *pyScanner) value() error {
	s.space()
	start := s.i
	if err := s.valueAt(); err != nil {
		return err
	}
	if s.atWant() {
		s.found, s.spanOff, s.spanEnd = true, start, s.i
	}
	return nil
}

func (s *pyScanner) valueAt() error {
	if s.i >= len(s.b) {
		return s.fail("unexpected end")
	}
	switch c := s.b[s.i]; {
	case c == '{':
		return s.object()
	case c == '[':
		return s.array()
	case c == '"':
		_, err := s.str()
		return err
	case c == 'N':
		return s.nonFinite("NaN", math.NaN())
	case c == 'I':
		return s.nonFinite("Infinity", math.Inf(1))
	case c == '-' && s.i+1 < len(s.b) && s.b[s.i+1] == 'I':
		return s.nonFinite("-Infinity", math.Inf(-1))
	case c == '-' || c >= '0' && c <= '9':
		return s.number()
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	}
	return s.fail("unexpected character")
}

func (s *pyScanner) literal(lit string) error {
	if !bytes.HasPrefix(s.b[s.i:], []byte(lit)) {
		return s.fail("bad literal")
	}
	s.i += len(lit)
	return nil
}

func (s *pyScanner) nonFinite(lit string, v float64) error {
	off := s.i
	if err := s.literal(lit); err != nil {
		return err
	}
	s.sites = append(s.sites, pySite{path: append([]pyStep(nil), s.path...), off: off, end: s.i, val: v})
	return nil
}

// number skips a JSON number; the decoder of the clean copy checks its
// exact form.
func (s *pyScanner) number() error {
	start := s.i
	for s.i < len(s.b) {
		switch c := s.b[s.i]; {
		case c >= '0' && c <= '9', c == '-', c == '+', c == '.', c == 'e', c == 'E':
			s.i++
			continue
		}
		break
	}
	if s.i == start || s.b[s.i-1] == '-' {
		return s.fail("bad number")
	}
	return nil
}

// str skips a string and returns its contents, decoded when asked for a
// key (raw is its bytes between the quotes).
func (s *pyScanner) str() (raw []byte, err error) {
	start := s.i
	s.i++ // the opening quote
	escaped := false
	for s.i < len(s.b) {
		c := s.b[s.i]
		s.i++
		switch {
		case escaped:
			escaped = false
		case c == '\\':
			escaped = true
		case c == '"':
			return s.b[start:s.i], nil
		case c < 0x20:
			return nil, s.fail("control character in a string")
		}
	}
	return nil, s.fail("unterminated string")
}

func (s *pyScanner) enter() error {
	if s.depth++; s.depth > maxPyDepth {
		return s.fail("nested too deep")
	}
	return nil
}

func (s *pyScanner) object() error {
	if err := s.enter(); err != nil {
		return err
	}
	s.i++ // {
	s.space()
	if s.i < len(s.b) && s.b[s.i] == '}' {
		s.i++
		s.depth--
		return nil
	}
	for {
		s.space()
		if s.i >= len(s.b) || s.b[s.i] != '"' {
			return s.fail("expected a key")
		}
		raw, err := s.str()
		if err != nil {
			return err
		}
		s.space()
		if s.i >= len(s.b) || s.b[s.i] != ':' {
			return s.fail("expected ':'")
		}
		s.i++
		s.path = append(s.path, pyStep{key: keyString(raw), index: -1})
		err = s.value()
		s.path = s.path[:len(s.path)-1]
		if err != nil {
			return err
		}
		s.space()
		if s.i >= len(s.b) {
			return s.fail("unterminated object")
		}
		switch s.b[s.i] {
		case ',':
			s.i++
		case '}':
			s.i++
			s.depth--
			return nil
		default:
			return s.fail("expected ',' or '}'")
		}
	}
}

func (s *pyScanner) array() error {
	if err := s.enter(); err != nil {
		return err
	}
	s.i++ // [
	s.space()
	if s.i < len(s.b) && s.b[s.i] == ']' {
		s.i++
		s.depth--
		return nil
	}
	for n := 0; ; n++ {
		s.path = append(s.path, pyStep{index: n})
		err := s.value()
		s.path = s.path[:len(s.path)-1]
		if err != nil {
			return err
		}
		s.space()
		if s.i >= len(s.b) {
			return s.fail("unterminated array")
		}
		switch s.b[s.i] {
		case ',':
			s.i++
		case ']':
			s.i++
			s.depth--
			return nil
		default:
			return s.fail("expected ',' or ']'")
		}
	}
}

// keyString decodes a quoted key; one that does not decode keeps its raw
// text (the decoder of the clean copy refuses it anyway).
func keyString(quoted []byte) string {
	if bytes.IndexByte(quoted, '\\') < 0 {
		return string(quoted[1 : len(quoted)-1])
	}
	var k string
	if json.Unmarshal(quoted, &k) != nil {
		return string(quoted)
	}
	return k
}
