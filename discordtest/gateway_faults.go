package discordtest

import (
	"errors"
	"fmt"
	"time"
)

// ErrNotCompressed is returned by CorruptStream for a connection without
// transport compression.
var ErrNotCompressed = errors.New("discordtest: connection has no compressed stream")

// Each fault acts on the live connection of a shard's newest session and
// returns ErrNoConnection when there is none. A fault on a connection does
// not carry over to the client's next connection.

// withLiveConn runs f with g.mu held on the shard's live connection.
func (g *Gateway) withLiveConn(shard int, f func(*gwConn) error) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	c, err := g.liveConnLocked(shard)
	if err != nil {
		return err
	}
	return f(c)
}

// liveConnLocked returns the shard's live connection.
func (g *Gateway) liveConnLocked(shard int) (*gwConn, error) {
	if g.state != stateRunning {
		return nil, ErrGatewayNotStarted
	}
	s := g.current[shard]
	if s == nil || s.conn == nil || s.conn.closing {
		return nil, ErrNoConnection
	}
	return s.conn, nil
}

// StopHeartbeatACKs stops answering the shard connection's heartbeats, as a
// zombied connection does. Dispatches still flow; add HoldFrames for a
// connection that sends nothing at all.
func (g *Gateway) StopHeartbeatACKs(shard int) error {
	return g.withLiveConn(shard, func(c *gwConn) error {
		c.noACK = true
		return nil
	})
}

// HoldFrames stops writing to the shard's connection until release is
// called; what is sent meanwhile (ACKs included) queues up behind it, as
// behind a large GUILD_CREATE burst on a slow link.
func (g *Gateway) HoldFrames(shard int) (release func(), err error) {
	err = g.withLiveConn(shard, func(c *gwConn) error {
		release = c.hold()
		return nil
	})
	return release, err
}

// DelayFrames holds the shard connection's writes for d of real time.
func (g *Gateway) DelayFrames(shard int, d time.Duration) error {
	return g.withLiveConn(shard, func(c *gwConn) error {
		release := c.hold()
		t := time.AfterFunc(d, release)
		c.qmu.Lock()
		c.timers = append(c.timers, t)
		c.qmu.Unlock()
		return nil
	})
}

// CloseShard closes the shard's connection with code and reason. Codes on
// which Discord ends the session (4004, 4007, 4009-4014) end it here too.
func (g *Gateway) CloseShard(shard, code int, reason string) error {
	return g.withLiveConn(shard, func(c *gwConn) error {
		g.closeConnLocked(c, code, reason)
		return nil
	})
}

// SendReconnect sends op 7 RECONNECT to the shard's connection.
func (g *Gateway) SendReconnect(shard int) error {
	return g.withLiveConn(shard, func(c *gwConn) error {
		c.send(outItem{data: []byte(`{"op":7,"d":null,"s":null,"t":null}`)})
		return nil
	})
}

// RequestHeartbeat sends op 1 HEARTBEAT to the shard's connection, which
// Discord uses to ask for an immediate heartbeat.
func (g *Gateway) RequestHeartbeat(shard int) error {
	return g.withLiveConn(shard, func(c *gwConn) error {
		c.send(outItem{data: []byte(`{"op":1,"d":null,"s":null,"t":null}`)})
		return nil
	})
}

// SendInvalidSession sends op 9 INVALID_SESSION to the shard's connection.
// With resumable false the session is dropped, so a RESUME of it fails.
func (g *Gateway) SendInvalidSession(shard int, resumable bool) error {
	return g.withLiveConn(shard, func(c *gwConn) error {
		if resumable {
			c.send(outItem{data: []byte(`{"op":9,"d":true,"s":null,"t":null}`)})
			return nil
		}
		// The connection outlives its session, unauthenticated: an
		// IDENTIFY on it (which many clients send) starts a new one.
		g.dropSessionLocked(c.sess)
		c.sess.conn = nil
		c.sess, c.authed = nil, false
		g.invalidSessionLocked(c)
		return nil
	})
}

// CutMidFrame writes the first half of a frame and then drops the TCP
// connection without a close frame. The cut frame carries no dispatch, so
// the session's sequence is unchanged and the session stays resumable.
func (g *Gateway) CutMidFrame(shard int) error {
	return g.withLiveConn(shard, func(c *gwConn) error {
		c.closing = true
		c.send(outItem{kind: outCut, data: []byte(`{"op":11,"d":null,"s":null,"t":null,"_cut":"` +
			"the client never sees this payload whole: the connection ends in its middle" + `"}`)})
		return nil
	})
}

// corruptBlock starts a block of reserved type in both DEFLATE (BFINAL=1,
// BTYPE=11) and zstd (Last_Block=1, Block_Type=3), so any decoder fails on
// it; the zlib sync-flush marker after it makes zlib-stream clients treat
// the message as complete and try to inflate it.
var corruptBlock = []byte{0x07, 0xff, 0xff, 0xff, 0x00, 0x00, 0xff, 0xff}

// CorruptStream sends one binary message that breaks the connection's
// compressed stream; every message after it is undecodable too, as after
// real corruption.
func (g *Gateway) CorruptStream(shard int) error {
	return g.withLiveConn(shard, func(c *gwConn) error {
		if c.comp == "" {
			return ErrNotCompressed
		}
		c.send(outItem{kind: outCorrupt, data: corruptBlock})
		return nil
	})
}

// Flap makes the network flap for d of the Gateway's clock (Flap(0) ends
// it): every connection is dropped, without a close frame, right after it
// has been sent READY (and its guilds) or RESUMED. The session stays
// resumable, so a client that reconnects at once gets RESUMED and is
// dropped again: a test of a client's reconnect pacing.
func (g *Gateway) Flap(d time.Duration) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if d <= 0 {
		g.flapUntil = time.Time{}
		return
	}
	g.flapUntil = g.now().Add(d)
}

// flapLocked drops c after what is queued for it, while Flap lasts.
func (g *Gateway) flapLocked(c *gwConn) {
	if g.now().Before(g.flapUntil) {
		c.closing = true
		c.send(outItem{kind: outDrop})
	}
}

// ReconnectBeforeHello makes the next n connections receive op 7 RECONNECT
// before HELLO, which Discord may send and clients must handle.
func (g *Gateway) ReconnectBeforeHello(n int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.reconnectFirst = max(n, 0)
}

// DropSession ends the shard's session as if Discord had expired it,
// without touching its connection: a later RESUME of it is answered with
// INVALID_SESSION d:false, and dispatches to the shard fail with
// ErrNoSession until a new IDENTIFY.
func (g *Gateway) DropSession(shard int) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.state != stateRunning {
		return ErrGatewayNotStarted
	}
	s := g.currentLocked(shard)
	if s == nil {
		return fmt.Errorf("%w %d", ErrNoSession, shard)
	}
	g.dropSessionLocked(s)
	return nil
}
