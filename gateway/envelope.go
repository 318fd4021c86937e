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
// the three scalars and takes everything between the colon after "d" and
// the object's closing brace as d, without scanning it: a full JSON parse
// here would cost more than the decompression. Any other shape (d first,
// escapes in t, unknown keys) goes to a full encoding/json parse, which
// also validates the message.
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
			// Only when d comes last in Discord's order do we know where
			// it ends without scanning it.
			if seen != seenT|seenS|seenOp {
				return false
			}
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
			if end < i {
				return false
			}
			e.d = msg[i : end+1]
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
