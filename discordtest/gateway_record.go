package discordtest

import (
	"context"
	"encoding/json"
	"time"
)

// Received is one payload a client sent, as the Gateway recorded it.
type Received struct {
	// Conn is the connection's number, from 1 in the order of upgrades.
	Conn int
	// Listener is where the connection arrived; a RESUME on
	// ResumeListener proves the client used resume_gateway_url.
	Listener Listener
	// Shard is the connection's shard, or -1 before IDENTIFY or RESUME.
	Shard int
	// Op is the payload's opcode, or -1 when it was not a valid payload.
	Op int
	// Data is the payload's "d".
	Data json.RawMessage
	// Raw is the payload as received.
	Raw []byte
	// At is the time of receipt by the Gateway's clock.
	At time.Time
}

// ConnInfo describes one accepted connection.
type ConnInfo struct {
	Num      int      // the connection's number, as in Received.Conn
	Listener Listener // where it arrived
	Version  int      // the v parameter (10 when absent)
	Compress string   // "", "zlib-stream" or "zstd-stream"
	Query    string   // the raw query of the connect URL
	// ServerClose is the close code the Gateway sent, 0 if none.
	ServerClose int
	// ClientClose is the close code the client sent (1005 for a close frame
	// without one), 0 if none. After a close by the Gateway it is the
	// client's echo of ServerClose.
	ClientClose int
}

// Received returns a copy of every payload clients have sent so far (the
// newest MaxRecorded, at least, when that is set).
func (g *Gateway) Received() []Received {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.received.all()
}

// CountReceived returns how many of the payloads clients have sent so far
// (as Received keeps them) match reports true for: the IDENTIFYs a bot
// sent, say, with func(r Received) bool { return r.Op == 2 }.
func (g *Gateway) CountReceived(match func(Received) bool) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	n := 0
	for _, r := range g.received.items {
		if match(r) {
			n++
		}
	}
	return n
}

// Connections returns a copy of what is known of every accepted connection.
func (g *Gateway) Connections() []ConnInfo {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]ConnInfo(nil), g.connInfo...)
}

// WaitReceived blocks until a client has sent a payload that match reports
// true for, and returns the first such payload.
func (g *Gateway) WaitReceived(ctx context.Context, match func(Received) bool) (Received, error) {
	var found Received
	seen := 0
	err := g.waitFor(ctx, func() bool {
		recs, next := g.received.from(seen)
		seen = next
		for _, r := range recs {
			if match(r) {
				found = r
				return true
			}
		}
		return false
	})
	return found, err
}

// WaitConnection blocks until a connection matching match has been
// accepted, and returns what is known of it then.
func (g *Gateway) WaitConnection(ctx context.Context, match func(ConnInfo) bool) (ConnInfo, error) {
	var found ConnInfo
	err := g.waitFor(ctx, func() bool {
		for _, ci := range g.connInfo {
			if match(ci) {
				found = ci
				return true
			}
		}
		return false
	})
	return found, err
}
