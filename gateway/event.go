package gateway

import (
	"encoding/json"
	"time"
)

// Event is something Next returns: one of *Hello, *Ready, *Resumed,
// *Dispatch, *HeartbeatRequest, *HeartbeatACK, *Reconnect,
// *InvalidSession or *Closed.
type Event interface{ isEvent() }

// Hello is op 10, the first payload of a connection. When Resuming is true
// the Conn has already queued RESUME in Output; otherwise the driver must
// take an identify slot and call Identify.
type Hello struct {
	Interval time.Duration
	Resuming bool
}

// Ready is the READY dispatch: a new session. Dispatch holds the whole
// event (Data is the READY object, for the user, guilds and application);
// like every Dispatch, its Data is valid until the next call to Next,
// Receive or Connect.
type Ready struct {
	SessionID string
	ResumeURL string
	Dispatch  Dispatch
}

// Resumed is the RESUMED dispatch: the missed events have been replayed.
type Resumed struct{ Seq int64 }

// Dispatch is op 0, an event. Name and Seq are read from the payload's
// prefix; Data is the raw JSON of d, left undecoded until the user asks.
//
// The *Dispatch returned by Next and its Data alias the Conn's buffers:
// they are valid until the next call to Next, Receive or Connect. Clone it
// (or decode it) to keep it.
type Dispatch struct {
	Seq  int64
	Name string
	Data json.RawMessage

	unread bool // Data was taken unread as the rest of the payload (see Decode)
}

// Decode unmarshals Data into v, typically a type from package discord.
// It uses github.com/goccy/go-json, which decoded the benchmark corpus
// into the discord types about 3× faster than encoding/json with the same
// results (gateway/jsonbench; figures in BENCHMARKS.md). Errors wrap
// ErrDecode.
//
// When Data does not decode because the payload had a key after d (Data
// was taken unread on the fast path, see parseEnvelope), it is read again
// in full as the rest of the payload's object, corrected to d itself, and
// v decoded from that.
func (d *Dispatch) Decode(v any) error {
	err := decodeJSON(d.Data, v)
	if err == nil || !d.reread() {
		return err
	}
	return decodeJSON(d.Data, v)
}

// reread reads Data in full when it was taken unread, and reports whether
// that corrected it (a key followed d).
func (d *Dispatch) reread() bool {
	if !d.unread {
		return false
	}
	data, ok := rereadRest(d.Data)
	if !ok || len(data) == len(d.Data) {
		return false
	}
	d.Data, d.unread = data, false
	return true
}

// Clone returns a copy of d that owns its bytes, so it stays valid after
// the Conn's next call, and whose Decode reads a payload with a key after d
// correctly, as d's does (a dispatch made of a copy of Data cannot tell).
// It costs one allocation, the copy of Data.
func (d *Dispatch) Clone() Dispatch {
	c := *d
	if d.Data != nil {
		c.Data = append(json.RawMessage(nil), d.Data...)
	}
	return c
}

// HeartbeatRequest is op 1 from the server. The Conn has already queued the
// heartbeat it asks for in Output.
type HeartbeatRequest struct{}

// HeartbeatACK is op 11.
type HeartbeatACK struct{}

// Reconnect is op 7: Discord wants this connection gone. The driver closes
// it (Conn.Close with a code that keeps the session) and resumes on a new
// connection.
type Reconnect struct{}

// InvalidSession is op 9. Resumable reports d; when false the Conn has
// dropped the session. Either way the driver must open a new connection:
// Action says whether it will RESUME or IDENTIFY there.
type InvalidSession struct {
	Resumable bool
	Action    Action
}

// Closed is a close frame from the server. The Conn has queued the close
// reply in Output; after writing it, drop the connection and follow Action.
type Closed struct {
	Code   CloseCode
	Reason string
	Action Action
}

func (*Hello) isEvent()            {}
func (*Ready) isEvent()            {}
func (*Resumed) isEvent()          {}
func (*Dispatch) isEvent()         {}
func (*HeartbeatRequest) isEvent() {}
func (*HeartbeatACK) isEvent()     {}
func (*Reconnect) isEvent()        {}
func (*InvalidSession) isEvent()   {}
func (*Closed) isEvent()           {}
