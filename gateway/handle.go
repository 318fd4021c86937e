package gateway

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// message handles one complete WebSocket data message.
func (c *Conn) message(p []byte) (Event, error) {
	msg := p
	switch c.cfg.Compression {
	case CompressZlib:
		out, ok, err := c.zlib.inflate(p)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, nil
		}
		msg = out
	case CompressZstd:
		out, err := c.zstd.inflate(p)
		if err != nil {
			return nil, err
		}
		msg = out
	}
	if err := parseEnvelope(msg, &c.env); err != nil {
		return nil, err
	}
	return c.payload(&c.env)
}

// payload acts on one gateway payload.
func (c *Conn) payload(e *envelope) (Event, error) {
	switch e.op {
	case OpDispatch:
		return c.dispatchEvent(e)
	case OpHeartbeat:
		// Answer at once; it does not count as a beat awaiting an ACK.
		c.out = c.appendText(c.out, appendHeartbeat(c.scratch[:0], c.seq, c.hasSeq))
		return &HeartbeatRequest{}, nil
	case OpHeartbeatACK:
		return &HeartbeatACK{}, nil
	case OpReconnect:
		return &Reconnect{}, nil
	case OpInvalidSession:
		resumable := string(e.d) == "true"
		if !resumable {
			c.dropSession()
		}
		action := ActionResume
		if c.sessionID == "" {
			action = ActionIdentify
		}
		c.log.Debug("gateway: invalid session", "resumable", resumable)
		// Never IDENTIFY again on this socket: the driver reconnects.
		c.Close(4000, "invalid session")
		return &InvalidSession{Resumable: resumable, Action: action}, nil
	case OpHello:
		var h struct {
			Interval *float64 `json:"heartbeat_interval"`
		}
		if err := json.Unmarshal(e.d, &h); err != nil || h.Interval == nil || *h.Interval <= 0 || *h.Interval > 1e9 {
			return nil, &DecodeError{Reason: "HELLO without a valid heartbeat_interval", Err: err}
		}
		c.hello = true
		c.interval = time.Duration(*h.Interval * float64(time.Millisecond))
		if floor := c.cfg.minHeartbeat(); c.interval < floor {
			c.log.Debug("gateway: heartbeat_interval below the floor, raised", "asked", *h.Interval, "floor", floor)
			c.interval = floor
		}
		c.nextBeat = time.Time{}
		c.beatSent = false
		ev := &Hello{Interval: c.interval}
		// A second HELLO on one connection (Discord sends none) starts
		// the heartbeats afresh but sends no second IDENTIFY or RESUME.
		if c.sessionID != "" && !c.identSent && !c.resumeSent {
			if err := c.queueResume(); err != nil {
				return nil, err
			}
			ev.Resuming = true
		}
		return ev, nil
	}
	// Opcodes Discord adds later are skipped, not fatal.
	c.log.Debug("gateway: unknown opcode", "op", int(e.op))
	return nil, nil
}

func (c *Conn) dispatchEvent(e *envelope) (Event, error) {
	// Checked before anything is applied: a dispatch out of order takes no
	// sequence number and sets no session.
	if err := c.inOrder(e.name); err != nil {
		return nil, err
	}
	if e.hasSeq {
		c.seq, c.hasSeq = e.seq, true
	}
	d := &c.dispatch
	d.Seq = e.seq
	d.Name = c.intern(e.name)
	d.Data = e.d
	d.unread = e.unread
	switch d.Name {
	case "READY":
		var r struct {
			SessionID string `json:"session_id"`
			ResumeURL string `json:"resume_gateway_url"`
		}
		err := json.Unmarshal(d.Data, &r)
		if err != nil && d.reread() {
			err = json.Unmarshal(d.Data, &r)
		}
		if err != nil || r.SessionID == "" {
			return nil, &DecodeError{Reason: "READY without session_id", Err: err}
		}
		c.sessionID, c.resumeURL = r.SessionID, r.ResumeURL
		c.decompressFailures = 0
		c.log.Debug("gateway: ready", "session", r.SessionID)
		return &Ready{SessionID: r.SessionID, ResumeURL: r.ResumeURL, Dispatch: *d}, nil
	case "RESUMED":
		c.log.Debug("gateway: resumed", "seq", c.seq)
		c.decompressFailures = 0
		return &Resumed{Seq: c.seq}, nil
	}
	return d, nil
}

// inOrder refuses a dispatch Discord cannot send at this point: any
// before HELLO, a READY that answers no IDENTIFY and a RESUMED that
// answers no RESUME on this connection. Obeying them would let a broken
// or hostile server set the session and its resume URL, or move the
// sequence, on a connection that never authenticated.
func (c *Conn) inOrder(name []byte) error {
	var why string
	switch {
	case !c.hello:
		why = "dispatch " + truncName(name) + " before HELLO"
	case string(name) == "READY" && !c.identSent:
		why = "READY without IDENTIFY"
	case string(name) == "RESUMED" && !c.resumeSent:
		why = "RESUMED without RESUME"
	default:
		return nil
	}
	return c.violation(&ProtocolError{Code: 1002, Reason: why})
}

func truncName(name []byte) string {
	if len(name) > 64 {
		name = name[:64]
	}
	return strconv.Quote(string(name))
}

// intern returns name as a string, allocating only the first time a name
// is seen on this Conn (Discord has a few dozen).
func (c *Conn) intern(name []byte) string {
	if s, ok := c.names[string(name)]; ok {
		return s
	}
	s := string(name)
	if len(c.names) < 1024 {
		c.names[s] = s
	}
	return s
}

func (c *Conn) queueResume() error {
	d, err := json.Marshal(resumeData{Token: c.cfg.Token, SessionID: c.sessionID, Seq: c.seq})
	if err != nil {
		return err
	}
	b, err := appendRawPayload(c.scratch[:0], OpResume, d)
	if err != nil {
		return fmt.Errorf("gateway: resume: %w", err)
	}
	c.scratch = b
	c.out = c.appendText(c.out, b)
	c.resumeSent = true
	return nil
}
