package shard

import (
	"strconv"
	"time"

	"github.com/ipcord/ipcord/gateway"
)

// State is where a shard is in its life.
type State int32

const (
	StateIdle        State = iota // Run not called yet
	StateConnecting               // dialing, upgrading, waiting for HELLO
	StateIdentifying              // waiting for an identify slot, then for READY
	StateResuming                 // RESUME sent, waiting for RESUMED
	StateReady                    // READY or RESUMED received: events flow
	StateBackoff                  // waiting before the next connection attempt
	StateStopped                  // Run returned
)

var stateNames = [...]string{"idle", "connecting", "identifying", "resuming", "ready", "backoff", "stopped"}

func (s State) String() string {
	if s >= 0 && int(s) < len(stateNames) {
		return stateNames[s]
	}
	return "State(" + strconv.Itoa(int(s)) + ")"
}

// Status is a snapshot of a shard, for dashboards and health checks.
type Status struct {
	ID    int
	State State
	// Latency is the time from the last acknowledged heartbeat to its ACK.
	Latency time.Duration
	// LastACK is when the last heartbeat ACK arrived, by Config.Clock;
	// zero before the first. Its age is how long the connection has gone
	// unconfirmed, which grows past the heartbeat interval on a zombie.
	LastACK time.Time
	// Seq is the last sequence number received on the session.
	Seq int64
	// Connections is the number of connections opened; Reconnects those
	// after the first.
	Connections int
	Reconnects  int
	// Identifies and Resumes count the IDENTIFYs and RESUMEs sent.
	Identifies int
	Resumes    int
	// Pauses counts the times reading stopped because the event queue was
	// full; Queued is the number of events waiting for the handler now.
	Pauses int
	Queued int
	// LastCloseCode is the code of the last close frame the gateway sent,
	// 0 if it never sent one (a dropped connection is not a close).
	LastCloseCode gateway.CloseCode
	// LastError is why the last connection ended, nil if none did: see
	// ErrConnectionLost and the errors after it.
	LastError error
}
