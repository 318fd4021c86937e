package gateway

import (
	"bytes"
	"encoding/json"
)

// envelope is a received payload's outer object. name and d alias the
// message.
type envelope struct {
	op     Opcode
	seq    int64
	hasSeq bool
	name   []byte // nil when t is null or absent
	d      []byte // raw JSON of d; nil when absent
	unread bool   // d was taken as the unread rest of the object
}

// parseEnvelope reads op, s, t and d from msg.
//
// Discord writes its keys in the order t, s, op, d, so the fast path reads
// the three scalars and takes everything from there to the object's
// closing brace as d, without reading it. Other key orders (d first) are
// read by skipping values structurally. Even a structural skip of d (only
// strings and nesting) cost a third of the receive path's time with
// zstd-stream; the decoder the user runs on d validates it anyway.
//
// A key after d, which Discord does not send today, is caught two ways
// without reading d: when the region taken as d does not end the way d
// begins (an object with '}', an array with ']', a string with '"', ...),
// the message goes to the slow path here; when it does (a key after d
// whose value is of d's kind), Dispatch.Decode finds the region is not one
// value and reads it in full as the rest of the object (see rereadRest). Shapes the scan does
// not handle (escapes in t or in keys, duplicate keys, a non-integer s) go
// to a full encoding/json parse, which also validates the message.
func parseEnvelope(msg []byte, e *envelope) error {
	if ok := parseFast(msg, e); ok {
		return nil
	}
	return parseSlow(msg, e)
}

func isSpace(c byte) bool { return c == ' ' || c == '\n' || c == '\r' || c == '\t' }

func skipSpace(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

const (
	seenT = 1 << iota
	seenS
	seenOp
)

func parseFast(msg []byte, e *envelope) bool {
	*e = envelope{}
	i := skipSpace(msg, 0)
	if i >= len(msg) || msg[i] != '{' {
		return false
	}
	i++
	seen := 0
	hasD := false
	for {
		i = skipSpace(msg, i)
		if i >= len(msg) || msg[i] != '"' {
			return false
		}
		kend, ok := skipString(msg, i+1)
		if !ok {
			return false
		}
		key := msg[i+1 : kend-1]
		i = skipSpace(msg, kend)
		if i >= len(msg) || msg[i] != ':' {
			return false
		}
		i = skipSpace(msg, i+1)
		if i >= len(msg) {
			return false
		}
		switch string(key) {
		case "t":
			if seen&seenT != 0 {
				return false
			}
			seen |= seenT
			i, ok = parseName(msg, i, e)
		case "s":
			if seen&seenS != 0 {
				return false
			}
			seen |= seenS
			var v int64
			var null bool
			i, v, null, ok = parseUint(msg, i)
			e.seq, e.hasSeq = v, !null
		case "op":
			if seen&seenOp != 0 {
				return false
			}
			seen |= seenOp
			var v int64
			var null bool
			i, v, null, ok = parseUint(msg, i)
			ok = ok && !null
			e.op = Opcode(v)
		case "d":
			if hasD {
				return false
			}
			hasD = true
			if seen == seenT|seenS|seenOp {
				// Discord's order: d is last, and everything up to the
				// object's closing brace. Not reading it is what keeps
				// this path cheap.
				return takeRest(msg, i, e)
			}
			var end int
			if end, ok = skipValue(msg, i); ok {
				e.d = msg[i:end]
				i = end
			}
		default:
			// encoding/json matches keys case-insensitively and unescapes
			// them; leave such keys to it.
			if bytes.IndexByte(key, '\\') >= 0 || bytes.EqualFold(key, []byte("t")) || bytes.EqualFold(key, []byte("s")) ||
				bytes.EqualFold(key, []byte("op")) || bytes.EqualFold(key, []byte("d")) {
				return false
			}
			i, ok = skipValue(msg, i)
		}
		if !ok {
			return false
		}
		i = skipSpace(msg, i)
		if i >= len(msg) {
			return false
		}
		if msg[i] == '}' {
			return seen&seenOp != 0 && skipSpace(msg, i+1) == len(msg)
		}
		if msg[i] != ',' {
			return false
		}
		i++
	}
}

// takeRest sets d to msg[i:] up to the object's closing brace.
func takeRest(msg []byte, i int, e *envelope) bool {
	end := len(msg) - 1
	for end > i && isSpace(msg[end]) {
		end--
	}
	if msg[end] != '}' {
		return false
	}
	end--
	for end >= i && isSpace(msg[end]) {
		end--
	}
	if end < i || !closes(msg[i], msg[end]) {
		return false
	}
	e.d = msg[i : end+1]
	e.unread = true
	return true
}

// closes reports whether a JSON value that starts with first can end with
// last; when it cannot, something follows d.
func closes(first, last byte) bool {
	switch first {
	case '{':
		return last == '}'
	case '[':
		return last == ']'
	case '"':
		return last == '"'
	case 't', 'f':
		return last == 'e'
	case 'n':
		return last == 'l'
	}
	return last >= '0' && last <= '9'
}

// parseName reads t: a string without escapes, or null.
func parseName(msg []byte, i int, e *envelope) (int, bool) {
	if msg[i] == 'n' {
		if bytes.HasPrefix(msg[i:], []byte("null")) {
			return i + 4, true
		}
		return i, false
	}
	if msg[i] != '"' {
		return i, false
	}
	j := bytes.IndexByte(msg[i+1:], '"')
	if j < 0 {
		return i, false
	}
	name := msg[i+1 : i+1+j]
	if bytes.IndexByte(name, '\\') >= 0 {
		return i, false
	}
	e.name = name
	return i + j + 2, true
}

// parseUint reads a non-negative integer of at most 18 digits, or null.
func parseUint(msg []byte, i int) (next int, v int64, null, ok bool) {
	if msg[i] == 'n' {
		if bytes.HasPrefix(msg[i:], []byte("null")) {
			return i + 4, 0, true, true
		}
		return i, 0, false, false
	}
	start := i
	for i < len(msg) && msg[i] >= '0' && msg[i] <= '9' {
		v = v*10 + int64(msg[i]-'0')
		i++
	}
	n := i - start
	if n == 0 || n > 18 || (n > 1 && msg[start] == '0') {
		return i, 0, false, false
	}
	return i, v, false, true
}

type slowEnvelope struct {
	Op *int            `json:"op"`
	S  *int64          `json:"s"`
	T  *string         `json:"t"`
	D  json.RawMessage `json:"d"`
}

// rereadRest returns d itself from rest, d's value and what followed it
// up to the object's closing brace, as the fast path took it: the keys
// before d (op, s, t, and others the fast path skipped) have no bearing on
// d, so rest alone, read as the object {"d":rest}, is enough. That is what
// lets a copy of Data (Dispatch.Clone) be corrected as the Conn's own.
func rereadRest(rest []byte) ([]byte, bool) {
	obj := make([]byte, 0, len(`{"d":}`)+len(rest))
	obj = append(append(append(obj, `{"d":`...), rest...), '}')
	var s struct {
		D json.RawMessage `json:"d"`
	}
	if json.Unmarshal(obj, &s) != nil || s.D == nil {
		return nil, false
	}
	return s.D, true
}

func parseSlow(msg []byte, e *envelope) error {
	*e = envelope{}
	var s slowEnvelope
	if err := json.Unmarshal(msg, &s); err != nil {
		return &DecodeError{Reason: "not a JSON object", Err: err}
	}
	if s.Op == nil {
		return &DecodeError{Reason: "no op field"}
	}
	e.op = Opcode(*s.Op)
	if s.S != nil {
		if *s.S < 0 {
			return &DecodeError{Reason: "negative s"}
		}
		e.seq, e.hasSeq = *s.S, true
	}
	if s.T != nil {
		e.name = []byte(*s.T)
	}
	e.d = s.D
	return nil
}

// skipValue returns the end of the JSON value starting at msg[i]: after the
// matching bracket for objects and arrays, after the closing quote for
// strings, at the next delimiter for literals and numbers. It checks
// nesting and strings, not grammar: the user's decoder validates d.
func skipValue(msg []byte, i int) (int, bool) {
	switch msg[i] {
	case '{', '[':
	case '"':
		return skipString(msg, i+1)
	default:
		j := i
		for j < len(msg) && !isSpace(msg[j]) && msg[j] != ',' && msg[j] != '}' && msg[j] != ']' {
			j++
		}
		return j, j > i
	}
	depth := 0
	for i < len(msg) {
		switch msg[i] {
		case '"':
			end, ok := skipString(msg, i+1)
			if !ok {
				return 0, false
			}
			i = end
			continue
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth == 0 {
				return i + 1, true
			}
		}
		i++
	}
	return 0, false
}

// skipString returns the index after the closing quote of the string whose
// body starts at msg[i] (the opening quote is at msg[i-1]).
func skipString(msg []byte, i int) (int, bool) {
	for {
		j := bytes.IndexByte(msg[i:], '"')
		if j < 0 {
			return 0, false
		}
		i += j
		// The quote is escaped if an odd number of backslashes precede it.
		k := i - 1
		for msg[k] == '\\' {
			k--
		}
		if (i-1-k)%2 == 0 {
			return i + 1, true
		}
		i++
	}
}
