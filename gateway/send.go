package gateway

import (
	"encoding/json"
	"fmt"

	"github.com/ipcord/ipcord/internal/wsproto"
)

// appendText frames payload as a masked text message.
func (c *Conn) appendText(dst, payload []byte) []byte {
	return wsproto.AppendFrame(dst, wsproto.Client, wsproto.OpText, true, false, wsproto.MaskKey(), payload)
}

// ready reports whether payloads may be sent now.
func (c *Conn) ready() error {
	if c.state != stateOpen || c.err != nil {
		return ErrClosed
	}
	if !c.hello {
		return fmt.Errorf("%w: no HELLO yet", ErrState)
	}
	return nil
}

// Identify queues IDENTIFY, starting a new session. Call it after a Hello
// whose Resuming is false, once the driver holds an identify slot
// (max_concurrency per 5 s; 1000 a day).
func (c *Conn) Identify() error {
	if err := c.ready(); err != nil {
		return err
	}
	if c.identSent || c.resumeSent {
		return fmt.Errorf("%w: IDENTIFY or RESUME already sent on this connection", ErrState)
	}
	d := identifyData{
		Token:          c.cfg.Token,
		Properties:     c.cfg.Properties,
		LargeThreshold: c.cfg.LargeThreshold,
		Presence:       c.cfg.Presence,
		Intents:        c.cfg.Intents,
	}
	if p := d.Presence; p != nil && p.Activities == nil {
		// Discord wants an array; a nil slice would encode as null.
		cp := *p
		cp.Activities = []json.RawMessage{}
		d.Presence = &cp
	}
	if c.cfg.ShardCount > 0 {
		d.Shard = &[2]int{c.cfg.ShardID, c.cfg.ShardCount}
	}
	if err := c.send(OpIdentify, d); err != nil {
		return err
	}
	c.identSent = true
	return nil
}

// Send queues a payload with opcode op and data d, marshalled with
// encoding/json (a json.RawMessage is sent as is). It is the way to use
// opcodes this package does not know yet. Payloads over MaxPayload bytes
// are refused with a *PayloadTooLargeError.
func (c *Conn) Send(op Opcode, d any) error {
	if err := c.ready(); err != nil {
		return err
	}
	return c.send(op, d)
}

func (c *Conn) send(op Opcode, d any) error {
	raw, ok := d.(json.RawMessage)
	if !ok {
		var err error
		if raw, err = json.Marshal(d); err != nil {
			return fmt.Errorf("gateway: %s: %w", op, err)
		}
	}
	b, err := appendRawPayload(c.scratch[:0], op, raw)
	if err != nil {
		return err
	}
	c.scratch = b
	c.out = c.appendText(c.out, b)
	return nil
}

// UpdatePresence queues op 3.
func (c *Conn) UpdatePresence(p Presence) error {
	if p.Activities == nil {
		p.Activities = []json.RawMessage{}
	}
	return c.Send(OpPresenceUpdate, p)
}

// UpdateVoiceState queues op 4.
func (c *Conn) UpdateVoiceState(v VoiceStateUpdate) error { return c.Send(OpVoiceStateUpdate, v) }

// RequestGuildMembers queues op 8.
func (c *Conn) RequestGuildMembers(r RequestGuildMembers) error {
	return c.Send(OpRequestGuildMembers, r)
}

// RequestSoundboardSounds queues op 31.
func (c *Conn) RequestSoundboardSounds(r RequestSoundboardSounds) error {
	return c.Send(OpRequestSoundboardSounds, r)
}

// RequestChannelInfo queues op 43.
func (c *Conn) RequestChannelInfo(r RequestChannelInfo) error {
	return c.Send(OpRequestChannelInfo, r)
}
