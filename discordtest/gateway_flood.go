package discordtest

import (
	"context"
	"errors"
	"fmt"
)

// floodWindow is how many bytes of event data Flood lets wait for a
// connection's writer: enough to keep a fast client busy, little enough
// that a slow one does not make the fake hold the whole flood.
const floodWindow = 256 << 10

// floodChunk is how many events Flood dispatches per hold of the
// Gateway's lock.
const floodChunk = 64

// ErrNoEvents is returned by Flood without events to send.
var ErrNoEvents = errors.New("discordtest: no events to flood with")

// Flood sends count dispatches to the shard's session, events in turn, as
// fast as its client reads them: it keeps about 256 KiB of event data queued
// for the connection and waits for the client to take it, so a slow bot
// slows the flood instead of growing the fake. Each dispatch gets its own
// sequence number and is kept for RESUME like any other; while the session
// has no connection (the bot is reconnecting) the flood waits for it. It
// returns the sequence number of the last dispatch, when all are queued;
// ctx ends it early.
//
// Flood is the fake's fast path, for load tests: an Event is encoded once,
// so a dispatch costs the fake a sequence number and a share of a writev.
func (g *Gateway) Flood(ctx context.Context, shard int, events []*Event, count int) (int64, error) {
	if len(events) == 0 {
		return 0, ErrNoEvents
	}
	var seq int64
	for i := 0; i < count; {
		g.mu.Lock()
		if g.state != stateRunning {
			g.mu.Unlock()
			return seq, ErrGatewayNotStarted
		}
		s := g.currentLocked(shard)
		if s == nil {
			g.mu.Unlock()
			return seq, fmt.Errorf("%w %d", ErrNoSession, shard)
		}
		c := s.conn
		if c == nil || c.closing {
			g.mu.Unlock()
			err := g.waitFor(ctx, func() bool {
				return g.currentLocked(shard) != s || s.conn != nil && !s.conn.closing
			})
			if err != nil {
				return seq, err
			}
			continue
		}
		if c.pending() > floodWindow {
			g.mu.Unlock()
			select {
			case <-c.drained:
			case <-c.done:
			case <-ctx.Done():
				return seq, ctx.Err()
			}
			continue
		}
		for n := min(count-i, floodChunk); n > 0; n-- {
			seq = g.dispatchEventLocked(s, events[i%len(events)])
			i++
		}
		g.mu.Unlock()
	}
	return seq, nil
}
