package discordtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
)

// Event is a dispatch encoded once, to be sent any number of times: its
// data is checked and copied once, and the fake keeps and sends it without
// copying it again (a zlib-stream connection even reuses its compressed
// bytes). Flood sends Events to load-test a bot; Dispatch makes one per
// call. An Event is immutable and safe for concurrent use.
type Event struct {
	name string
	data []byte
	// head is `,"t":"NAME","d":`, what follows the sequence number.
	head []byte
	// tail ends the payload after data: `}`, or the members that follow
	// d and `}` (NewEventAfterD).
	tail []byte

	zlibOnce sync.Once
	zlibBody []byte // data and the closing brace as DEFLATE blocks of their own
	zstdOnce sync.Once
	zstdBody []byte // the same as zstd blocks of their own
}

// NewEvent encodes a dispatch for Flood: data is marshaled with
// encoding/json (a json.RawMessage is checked and copied).
func NewEvent(name string, data any) (*Event, error) {
	raw, err := marshalData(name, data)
	if err != nil {
		return nil, err
	}
	return newEvent(name, raw), nil
}

// Name is the event's name, its payload's t.
func (e *Event) Name() string { return e.name }

// newEvent wraps data that is valid JSON and owned by the Event.
func newEvent(name string, data []byte) *Event {
	if data == nil {
		data = []byte("null")
	}
	head := append([]byte(`,"t":`), strconv.Quote(name)...)
	head = append(head, `,"d":`...)
	return &Event{name: name, data: data, head: head, tail: closingBrace}
}

// NewEventAfterD is NewEvent for a payload with members after d, which
// Discord does not send today but a client must read right should it
// start: after is a JSON object whose members follow d, in order, as in
// {"op":0,"s":2,"t":"X","d":{...},"trace":{...}}. It fails with
// ErrBadDispatch when after is not an object with at least one member.
func NewEventAfterD(name string, data any, after json.RawMessage) (*Event, error) {
	e, err := NewEvent(name, data)
	if err != nil {
		return nil, err
	}
	var members map[string]json.RawMessage
	trimmed := bytes.TrimSpace(after)
	if json.Unmarshal(trimmed, &members) != nil || members == nil || len(members) == 0 {
		return nil, fmt.Errorf("%w: after must be a JSON object with members", ErrBadDispatch)
	}
	// `{"k":v}` becomes `,"k":v}`.
	e.tail = append([]byte{','}, trimmed[1:]...)
	return e, nil
}

// dispatchPrefix is what a dispatch payload starts with, before its
// sequence number.
const dispatchPrefix = `{"op":0,"s":`

// appendPrefix appends the payload up to its data: the envelope with seq.
func (e *Event) appendPrefix(dst []byte, seq int64) []byte {
	dst = append(dst, dispatchPrefix...)
	dst = strconv.AppendInt(dst, seq, 10)
	return append(dst, e.head...)
}

// payloadLen is the length of the payload with seq.
func (e *Event) payloadLen(seq int64) int {
	return len(dispatchPrefix) + digits(seq) + len(e.head) + len(e.data) + len(e.tail)
}

// payload returns the whole payload with seq.
func (e *Event) payload(seq int64) []byte {
	p := make([]byte, 0, e.payloadLen(seq))
	p = e.appendPrefix(p, seq)
	p = append(p, e.data...)
	return append(p, e.tail...)
}

// zlib returns the event's data and closing brace compressed as DEFLATE
// blocks that refer to nothing before them, ending in a sync flush: valid
// in any zlib stream at a message boundary, so computed once.
func (e *Event) zlib() []byte {
	e.zlibOnce.Do(func() { e.zlibBody = deflateMessage(nil, e.data, e.tail) })
	return e.zlibBody
}

func digits(n int64) int {
	d := 1
	if n < 0 {
		d, n = 2, -n
	}
	for n >= 10 {
		n /= 10
		d++
	}
	return d
}

// zstd returns the event's data and closing brace as zstd blocks that
// refer to nothing before them but the initial repeat offsets (see
// zstdStream): valid after zstdRepeatReset in any stream, so made once.
func (e *Event) zstd() []byte {
	e.zstdOnce.Do(func() { e.zstdBody = zstdBody(e.data, e.tail) })
	return e.zstdBody
}
