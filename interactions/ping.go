package interactions

// isPing reports whether body is a PING, reading only the top-level
// "type" member so that the PING Discord sends to check an endpoint is
// answered without decoding the whole interaction. It reads the object's
// structure (strings, nesting) but not the other values' grammar (the
// caller checks that with json.Valid, still far cheaper than decoding);
// anything it does not follow (escapes in keys, an odd shape) is left to
// the full decoder, which then decides. As encoding/json, the last "type"
// wins.
func isPing(body []byte) bool {
	i := skipWS(body, 0)
	if i >= len(body) || body[i] != '{' {
		return false
	}
	typ := -1
	i++
	for {
		i = skipWS(body, i)
		if i >= len(body) || body[i] != '"' {
			return false
		}
		end, escaped, ok := stringEnd(body, i+1)
		if !ok || escaped {
			return false
		}
		key := body[i+1 : end-1]
		i = skipWS(body, end)
		if i >= len(body) || body[i] != ':' {
			return false
		}
		i = skipWS(body, i+1)
		if i >= len(body) {
			return false
		}
		if string(key) == "type" {
			typ = -1
			if body[i] == '1' && i+1 < len(body) && (body[i+1] < '0' || body[i+1] > '9') && body[i+1] != '.' && body[i+1] != 'e' && body[i+1] != 'E' {
				typ = 1
			}
		}
		if i, ok = valueEnd(body, i); !ok {
			return false
		}
		i = skipWS(body, i)
		if i >= len(body) {
			return false
		}
		switch body[i] {
		case ',':
			i++
		case '}':
			return typ == 1 && skipWS(body, i+1) == len(body)
		default:
			return false
		}
	}
}

func skipWS(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\n' || b[i] == '\r' || b[i] == '\t') {
		i++
	}
	return i
}

// stringEnd returns the index after the closing quote of the string whose
// content starts at b[i], and whether it holds escapes.
func stringEnd(b []byte, i int) (end int, escaped, ok bool) {
	for ; i < len(b); i++ {
		switch b[i] {
		case '\\':
			escaped = true
			i++
		case '"':
			return i + 1, escaped, true
		}
	}
	return 0, false, false
}

// valueEnd returns the index after the value starting at b[i]: a string,
// an object or array (by nesting, strings skipped), or a literal or number
// (up to the next delimiter).
func valueEnd(b []byte, i int) (int, bool) {
	switch b[i] {
	case '"':
		end, _, ok := stringEnd(b, i+1)
		return end, ok
	case '{', '[':
		depth := 0
		for ; i < len(b); i++ {
			switch b[i] {
			case '"':
				end, _, ok := stringEnd(b, i+1)
				if !ok {
					return 0, false
				}
				i = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1, true
				}
			}
		}
		return 0, false
	}
	j := i
	for j < len(b) && b[j] != ',' && b[j] != '}' && b[j] != ']' && b[j] != ' ' && b[j] != '\n' && b[j] != '\r' && b[j] != '\t' {
		j++
	}
	return j, j > i
}
