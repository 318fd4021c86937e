package wire

import "unicode/utf8"

// decoder is a validating scanner over one JSON text.
type decoder struct {
	b []byte
	i int
}

// maxDepth bounds nesting so a hostile frame cannot exhaust the stack.
const maxDepth = 512

func (d *decoder) ws() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

func (d *decoder) eat(c byte) bool {
	if d.i < len(d.b) && d.b[d.i] == c {
		d.i++
		return true
	}
	return false
}

// key scans an object key and returns its raw contents (escapes kept: no
// key we know contains one, so an escaped key simply matches nothing).
func (d *decoder) key() ([]byte, error) {
	start := d.i
	if err := d.skipString(); err != nil {
		return nil, err
	}
	return d.b[start+1 : d.i-1], nil
}

func (d *decoder) skipValue(depth int) error {
	if depth > maxDepth {
		return malformed("nesting deeper than %d", maxDepth)
	}
	if d.i >= len(d.b) {
		return malformed("unexpected end of input")
	}
	switch c := d.b[d.i]; {
	case c == '"':
		return d.skipString()
	case c == '{':
		d.i++
		d.ws()
		if d.eat('}') {
			return nil
		}
		for {
			d.ws()
			if err := d.skipString(); err != nil {
				return err
			}
			d.ws()
			if !d.eat(':') {
				return malformed("missing ':' at offset %d", d.i)
			}
			d.ws()
			if err := d.skipValue(depth + 1); err != nil {
				return err
			}
			d.ws()
			if d.eat('}') {
				return nil
			}
			if !d.eat(',') {
				return malformed("expected ',' or '}' at offset %d", d.i)
			}
		}
	case c == '[':
		d.i++
		d.ws()
		if d.eat(']') {
			return nil
		}
		for {
			d.ws()
			if err := d.skipValue(depth + 1); err != nil {
				return err
			}
			d.ws()
			if d.eat(']') {
				return nil
			}
			if !d.eat(',') {
				return malformed("expected ',' or ']' at offset %d", d.i)
			}
		}
	case c == '-' || (c >= '0' && c <= '9'):
		return d.skipNumber()
	default:
		for _, lit := range [...]string{"true", "false", "null"} {
			if len(d.b)-d.i >= len(lit) && string(d.b[d.i:d.i+len(lit)]) == lit {
				d.i += len(lit)
				return nil
			}
		}
		return malformed("invalid character %q at offset %d", c, d.i)
	}
}

func (d *decoder) skipString() error {
	if !d.eat('"') {
		return malformed("expected string at offset %d", d.i)
	}
	for d.i < len(d.b) {
		c := d.b[d.i]
		switch {
		case c == '"':
			d.i++
			return nil
		case c == '\\':
			if d.i+1 >= len(d.b) {
				return malformed("unterminated string")
			}
			switch d.b[d.i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				d.i += 2
			case 'u':
				if d.i+6 > len(d.b) {
					return malformed("short \\u escape")
				}
				for _, h := range d.b[d.i+2 : d.i+6] {
					if !isHex(h) {
						return malformed("bad \\u escape")
					}
				}
				d.i += 6
			default:
				return malformed("bad escape at offset %d", d.i)
			}
		case c < 0x20:
			return malformed("control character in string at offset %d", d.i)
		case c < utf8.RuneSelf:
			d.i++
		default:
			r, size := utf8.DecodeRune(d.b[d.i:])
			if r == utf8.RuneError && size == 1 {
				return malformed("invalid UTF-8 at offset %d", d.i)
			}
			d.i += size
		}
	}
	return malformed("unterminated string")
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func (d *decoder) skipNumber() error {
	start := d.i
	d.eat('-')
	switch {
	case d.eat('0'):
	case d.i < len(d.b) && d.b[d.i] >= '1' && d.b[d.i] <= '9':
		d.digits()
	default:
		return malformed("bad number at offset %d", start)
	}
	if d.eat('.') {
		if d.digits() == 0 {
			return malformed("bad number at offset %d", start)
		}
	}
	if d.i < len(d.b) && (d.b[d.i] == 'e' || d.b[d.i] == 'E') {
		d.i++
		if !d.eat('+') {
			d.eat('-')
		}
		if d.digits() == 0 {
			return malformed("bad number at offset %d", start)
		}
	}
	return nil
}

func (d *decoder) digits() int {
	n := 0
	for d.i < len(d.b) && d.b[d.i] >= '0' && d.b[d.i] <= '9' {
		d.i++
		n++
	}
	return n
}
