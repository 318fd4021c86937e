package shard

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"sync/atomic"

	"github.com/ipcord/ipcord/gateway"
)

// sendReq is a user payload on its way to the loop.
type sendReq struct {
	op       gateway.Opcode
	data     json.RawMessage
	done     chan error // cap 1: the loop never blocks on it
	canceled atomic.Bool
}

func (r *sendReq) finish(err error) { r.done <- err }

// Send sends a payload with opcode op and data d (marshalled with
// encoding/json; a json.RawMessage goes as is). It waits for a ready
// connection and for room under Discord's limit of 120 payloads per 60 s
// (keeping room for heartbeats), and returns once the payload was written,
// or ctx ended. A payload over 4096 bytes is refused at once with a
// *gateway.PayloadTooLargeError, since Discord would close the connection
// for it.
func (s *Shard) Send(ctx context.Context, op gateway.Opcode, d any) error {
	raw, ok := d.(json.RawMessage)
	if !ok {
		var err error
		if raw, err = json.Marshal(d); err != nil {
			return fmt.Errorf("shard: %s: %w", op, err)
		}
	}
	if size := len(`{"op":,"d":}`) + len(strconv.Itoa(int(op))) + len(raw); size > gateway.MaxPayload {
		return &gateway.PayloadTooLargeError{Op: op, Size: size}
	}
	if !s.started.Load() {
		return ErrNotRunning
	}
	req := &sendReq{op: op, data: raw, done: make(chan error, 1)}
	select {
	case s.sendCh <- req:
	case <-s.done:
		return ErrNotRunning
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-req.done:
		return err
	case <-ctx.Done():
		req.canceled.Store(true)
		return ctx.Err()
	}
}

// UpdatePresence sends op 3.
func (s *Shard) UpdatePresence(ctx context.Context, p gateway.Presence) error {
	if p.Activities == nil {
		p.Activities = []json.RawMessage{}
	}
	return s.Send(ctx, gateway.OpPresenceUpdate, p)
}

// sendPending sends the waiting user payloads the limiter allows, once the
// connection is ready.
func (l *link) sendPending() error {
	s := l.s
	if !l.gotGoing || len(s.sends) == 0 {
		return nil
	}
	now := s.cfg.Clock.Now()
	var sent []*sendReq
	for len(s.sends) > 0 {
		r := s.sends[0]
		if r.canceled.Load() {
			s.sends = s.sends[1:]
			continue
		}
		if l.limiter.wait(now, l.interval) > 0 {
			break
		}
		s.sends = s.sends[1:]
		if err := s.conn.Send(r.op, r.data); err != nil {
			r.finish(err)
			continue
		}
		l.limiter.record(now)
		sent = append(sent, r)
	}
	if len(s.sends) == 0 {
		s.sends = nil
	}
	err := l.flush()
	for _, r := range sent {
		r.finish(err)
	}
	return err
}
