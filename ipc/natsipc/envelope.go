package natsipc

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	gojson "github.com/goccy/go-json"
)

// The envelope is the few bytes natsipc puts around a route's JSON in a
// NATS message body. It is a body prefix rather than NATS headers because
// headers cost a MIME parse on both sides of every call, and the request
// path is what the benchmarks compare with bare nats.go.
//
// Request:  <timeout_ms> SP <from> [SP <id>] LF <meta JSON object, or nothing> LF <args JSON>
// Success:  '+' <cluster> [SP <id>] LF <result JSON>
// Failure:  '-' <cluster> [SP <id>] LF <code> LF <message>
// Refusal:  '!' <cluster> [SP <id>] LF <code> LF <message>
//
// A failure is the handler's own error; a refusal says the handler never
// ran (unknown route, shutting down, overloaded, bad request), so a caller
// may send the request again elsewhere without running it twice.
//
// <from> and <cluster> are names (possibly empty) without spaces or line
// breaks; an empty args or result means null. A reply repeats its
// request's <id>: Broadcasts, which share one reply subject per node, tell
// their replies apart by it (see requestMany).

// request is a decoded request envelope.
type request struct {
	timeoutMS int64
	from      string
	id        []byte // aliases the message body; nil without one
	meta      map[string]string
	args      []byte // aliases the message body
}

// reply is a decoded reply envelope.
type reply struct {
	cluster []byte // aliases the body: only Broadcast needs it as a string
	id      []byte // the request's id (aliases the body); nil without one
	ok      bool
	refused bool   // a refusal: the handler never ran
	data    []byte // result JSON when ok (aliases the body)
	code    string // error code when !ok
	message string
}

// maxTimeoutMS bounds a request's timeout (about 24 days) so that turning
// it into a time.Duration never overflows.
const maxTimeoutMS = 1 << 31

func appendRequest(b []byte, timeoutMS int64, from string, id []byte, meta map[string]string, args []byte) ([]byte, error) {
	b = strconv.AppendInt(b, timeoutMS, 10)
	b = append(b, ' ')
	b = append(b, from...)
	b = appendID(b, id)
	b = append(b, '\n')
	if len(meta) > 0 {
		m, err := json.Marshal(meta)
		if err != nil {
			return nil, err
		}
		b = append(b, m...)
	}
	b = append(b, '\n')
	return append(b, args...), nil
}

func decodeRequest(body []byte) (request, error) {
	var r request
	line, rest, ok := bytes.Cut(body, []byte{'\n'})
	if !ok {
		return r, fmt.Errorf("%w: no header line", ErrMalformed)
	}
	ms, from, ok := bytes.Cut(line, []byte{' '})
	if !ok {
		return r, fmt.Errorf("%w: no sender field", ErrMalformed)
	}
	from, r.id, ok = cutID(from)
	if !ok {
		return r, fmt.Errorf("%w: request id", ErrMalformed)
	}
	n, ok := parseMS(ms)
	if !ok {
		return r, fmt.Errorf("%w: timeout %q", ErrMalformed, ms)
	}
	if !validName(from) {
		return r, fmt.Errorf("%w: sender %q", ErrMalformed, from)
	}
	r.timeoutMS = n
	r.from = string(from)
	meta, args, ok := bytes.Cut(rest, []byte{'\n'})
	if !ok {
		return r, fmt.Errorf("%w: no meta line", ErrMalformed)
	}
	if len(meta) > 0 {
		if err := json.Unmarshal(meta, &r.meta); err != nil {
			return r, fmt.Errorf("%w: meta: %v", ErrMalformed, err)
		}
	}
	if len(args) > 0 && !gojson.Valid(args) {
		return r, fmt.Errorf("%w: args are not valid JSON", ErrMalformed)
	}
	r.args = args
	return r, nil
}

// parseMS parses a timeout: decimal digits, at most maxTimeoutMS. (It
// saves strconv's string conversion, an allocation per request.)
func parseMS(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 10 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, n <= maxTimeoutMS
}

func appendSuccess(b []byte, cluster string, id, data []byte) []byte {
	b = append(b, '+')
	b = append(b, cluster...)
	b = appendID(b, id)
	b = append(b, '\n')
	return append(b, data...)
}

// appendFailure appends a failure, or a refusal when refused.
func appendFailure(b []byte, cluster string, id []byte, refused bool, code, message string) []byte {
	if refused {
		b = append(b, '!')
	} else {
		b = append(b, '-')
	}
	b = append(b, cluster...)
	b = appendID(b, id)
	b = append(b, '\n')
	b = append(b, strings.ReplaceAll(code, "\n", " ")...)
	b = append(b, '\n')
	return append(b, message...)
}

func decodeReply(body []byte) (reply, error) {
	var r reply
	if len(body) == 0 {
		return r, fmt.Errorf("%w: empty reply", ErrMalformed)
	}
	kind := body[0]
	if kind != '+' && kind != '-' && kind != '!' {
		return r, fmt.Errorf("%w: reply kind %q", ErrMalformed, kind)
	}
	cluster, rest, ok := bytes.Cut(body[1:], []byte{'\n'})
	if ok {
		cluster, r.id, ok = cutID(cluster)
	}
	if !ok || !validName(cluster) {
		return r, fmt.Errorf("%w: reply cluster", ErrMalformed)
	}
	r.cluster = cluster
	if kind == '+' {
		if len(rest) > 0 && !gojson.Valid(rest) {
			return r, fmt.Errorf("%w: result is not valid JSON", ErrMalformed)
		}
		r.ok, r.data = true, rest
		return r, nil
	}
	code, msg, ok := bytes.Cut(rest, []byte{'\n'})
	if !ok || len(code) == 0 {
		return r, fmt.Errorf("%w: error code", ErrMalformed)
	}
	r.code, r.message, r.refused = string(code), string(msg), kind == '!'
	return r, nil
}

// replyID returns the id of a reply envelope without decoding the rest.
func replyID(body []byte) []byte {
	line, _, _ := bytes.Cut(body, []byte{'\n'})
	_, id, _ := bytes.Cut(line, []byte{' '})
	return id
}

// appendID appends " <id>" when there is an id.
func appendID(b, id []byte) []byte {
	if len(id) == 0 {
		return b
	}
	return append(append(b, ' '), id...)
}

// cutID splits "<name> <id>" (or "<name>") and checks the id.
func cutID(field []byte) (name, id []byte, ok bool) {
	name, id, found := bytes.Cut(field, []byte{' '})
	if !found {
		return name, nil, true
	}
	return name, id, len(id) > 0 && validName(id)
}

// validName reports whether b is empty or a name without separators: what
// the envelope allows for senders, clusters and codes.
func validName(b []byte) bool {
	if len(b) > 64 {
		return false
	}
	for _, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == ':' || c == '-') {
			return false
		}
	}
	return true
}
