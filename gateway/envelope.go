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
}

// parseEnvelope reads op, s, t and d from msg.
//
// Discord writes its keys in the order t, s, op, d, so the fast path reads
// the three scalars and finds the end of d with a structural skip that
// tracks only strings and nesting: a full JSON parse here would cost more
// than the decompression. d is not validated (the user's decoder does
// that). Any other shape (d first, escapes in t, unknown keys) goes to a
// full encoding/json parse, which also validates the message.
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
	for {
		i = skipSpace(msg, i)
		if i >= len(msg) || msg[i] != '"' {
			return false
		}
		// Keys are t, s, op, d: at most two bytes, never escaped.
		j := i + 1
		for j < len(msg) && j-i <= 3 && msg[j] != '"' {
			j++
		}
		if j >= len(msg) || msg[j] != '"' {
			return false
		}
		key := msg[i+1 : j]
		i = skipSpace(msg, j+1)
		if i >= len(msg) || msg[i] != ':' {
			return false
		}
		i = skipSpace(msg, i+1)
		if i >= len(msg) {
			return false
		}
		var ok bool
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
			// Only when d comes last in Discord's order can the scan stop
			// here; its end is found by a structural skip (no parse).
			if seen != seenT|seenS|seenOp {
				return false
			}
			end, ok := skipValue(msg, i)
			if !ok {
				return false
			}
			j := skipSpace(msg, end)
			if j >= len(msg) || msg[j] != '}' || skipSpace(msg, j+1) != len(msg) {
				return false
			}
			e.d = msg[i:end]
			return true
		default:
			return false
		}
		if !ok {
			return false
		}
		i = skipSpace(msg, i)
		if i >= len(msg) || msg[i] != ',' {
			return false
		}
		i++
	}
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

// skipValue returns the end of the JSON value starting at msg[i]: the
// matching bracket for objects and arrays, the closing quote for strings,
// the next delimiter for literals and numbers. It checks nesting, not
// grammar.
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
// body starts at msg[i].
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
