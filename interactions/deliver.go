package interactions

import (
	"context"
	"fmt"
	"time"
)

// Deliver serves an interaction that reached this process some other way
// than its HTTP endpoint: an INTERACTION_CREATE read by a shard (pass the
// event's Data and Received, the time it was read off the socket, so that
// the time it waited in the shard's queue counts against Discord's 3
// seconds), or one another process received and forwarded here (see
// Forward and ForwardHandler). A zero arrival means now. The listener
// registered for it runs exactly as for an HTTP request — the deadlines
// counted from arrival on the monotonic clock, the automatic defer before
// Discord's 3 seconds, the late delivery — and the first response goes to
// the callback route, which is how Discord takes answers to gateway
// interactions.
//
// raw is decoded before Deliver returns and not kept; the listener runs in
// the background. The error is immediate: ErrBadInteraction,
// ErrUnknownInteraction, ErrNoListener or ErrClosed. done, when not nil,
// is called once the first response has reached Discord (nil) or failed
// (ErrNotAnswered). ctx gives the listener's context its values; its end
// does not cancel the listener.
func (e *Endpoint) Deliver(ctx context.Context, raw []byte, arrival time.Time, done func(error)) error {
	if e.closed.Load() {
		return ErrClosed
	}
	if arrival.IsZero() {
		arrival = time.Now()
	}
	ev, en, _, err := e.prepare(arrival, raw, true)
	if ev == nil {
		if err == nil { // a PING: nothing to answer outside HTTP
			err = fmt.Errorf("%w: PING outside HTTP", ErrUnknownInteraction)
		}
		return err
	}
	if !e.track() {
		return ErrClosed
	}
	go func() {
		defer e.listeners.Done()
		res, after := e.run(ctx, en, ev)
		if after != nil {
			after() // the callback has been answered: deliveries may follow
		}
		ok := res.Status < 300
		ev.markSent(ok)
		if done != nil {
			if ok {
				done(nil)
			} else {
				done(ErrNotAnswered)
			}
		}
	}()
	return nil
}
