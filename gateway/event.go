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
// they are valid until the next call to Next, Receive or Connect. Copy Data
// (or decode it) to keep it.
type Dispatch struct {
	Seq  int64
	Name string
	Data json.RawMessage

	whole []byte // the payload, when Data was taken unread (see Decode)
}

// Decode unmarshals Data into v, typically a type from package discord.
// It uses github.com/goccy/go-json, which decoded the benchmark corpus
// into the discord types about 3× faster than encoding/json with the same
// results (gateway/jsonbench; figures in BENCHMARKS.md). Errors wrap
// ErrDecode.
//
// When Data does not decode because the payload had a key after d (Data
// was read on the fast path, see parseEnvelope), the payload is read again
// in full, Data is corrected, and v decoded from it.
func (d *Dispatch) Decode(v any) error {
	err := decodeJSON(d.Data, v)
	if err == nil || d.whole == nil {
		return err
	}
	var e envelope
	if parseSlow(d.whole, &e) != nil || len(e.d) == len(d.Data) {
		return err
	}
	d.Data, d.whole = e.d, nil
	return decodeJSON(d.Data, v)
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
