package wire

import (
	"strconv"
	"unicode/utf8"
)

// AppendHello appends a hello frame.
func AppendHello(dst []byte, identifier string, routes []string, maxMessage int) []byte {
	dst = append(dst, `{"t":"hello","v":1,"id":`...)
	dst = AppendString(dst, identifier)
	dst = append(dst, `,"routes":[`...)
	for i, r := range routes {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = AppendString(dst, r)
	}
	dst = append(dst, `],"enc":["json"]`...)
	if maxMessage > 0 {
		dst = append(dst, `,"max":`...)
		dst = strconv.AppendInt(dst, int64(maxMessage), 10)
	}
	return append(dst, '}')
}

// AppendRequest appends a req frame. args must be valid JSON (nil means null).
func AppendRequest(dst []byte, id uint64, route string, args []byte, timeoutMS int64, meta map[string]string) []byte {
	dst = append(dst, `{"t":"req","id":`...)
	dst = strconv.AppendUint(dst, id, 10)
	dst = append(dst, `,"route":`...)
	dst = AppendString(dst, route)
	dst = append(dst, `,"args":`...)
	dst = appendRaw(dst, args)
	if timeoutMS > 0 {
		dst = append(dst, `,"timeout_ms":`...)
		dst = strconv.AppendInt(dst, timeoutMS, 10)
	}
	if len(meta) > 0 {
		dst = append(dst, `,"meta":{`...)
		first := true
		for k, v := range meta {
			if !first {
				dst = append(dst, ',')
			}
			first = false
			dst = AppendString(dst, k)
			dst = append(dst, ':')
			dst = AppendString(dst, v)
		}
		dst = append(dst, '}')
	}
	return append(dst, '}')
}

// AppendResult appends a res frame. data must be valid JSON (nil means null).
func AppendResult(dst []byte, id uint64, data []byte) []byte {
	dst = append(dst, `{"t":"res","id":`...)
	dst = strconv.AppendUint(dst, id, 10)
	dst = append(dst, `,"data":`...)
	dst = appendRaw(dst, data)
	return append(dst, '}')
}

// AppendError appends an err frame.
func AppendError(dst []byte, id uint64, code, message string) []byte {
	dst = append(dst, `{"t":"err","id":`...)
	dst = strconv.AppendUint(dst, id, 10)
	dst = append(dst, `,"code":`...)
	dst = AppendString(dst, code)
	dst = append(dst, `,"message":`...)
	dst = AppendString(dst, message)
	return append(dst, '}')
}

// AppendCancel appends a cancel frame.
func AppendCancel(dst []byte, id uint64) []byte {
	dst = append(dst, `{"t":"cancel","id":`...)
	dst = strconv.AppendUint(dst, id, 10)
	return append(dst, '}')
}

func appendRaw(dst, raw []byte) []byte {
	if len(raw) == 0 {
		return append(dst, "null"...)
	}
	return append(dst, raw...)
}

const hexDigits = "0123456789abcdef"

// AppendString appends s as a JSON string. Invalid UTF-8 becomes U+FFFD, as
// encoding/json does, so the output is always valid JSON.
func AppendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		// U+2028 and U+2029 break JavaScript string literals.
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
