package natsipc

import (
	"errors"
)

// Errors of the NATS transport, for errors.Is. A call's failures are
// otherwise the ipc package's own: *ipc.Error codes from the remote side,
// ipc.ErrTimeout / ipc.ErrCanceled, ipc.ErrNotConnected,
// ipc.ErrConnectionLost and ipc.ErrClosed, exactly as over WebSocket.
var (
	// ErrNoResponders: nobody subscribes to the subject a call was sent
	// to. It comes wrapped with ipc.ErrUnknownRoute (no cluster serves the
	// route) or ipc.ErrUnknownClient (no such cluster is connected), and
	// it is returned at once rather than at the deadline.
	ErrNoResponders = errors.New("natsipc: no responders")
	// ErrMalformed: a message body that is not a natsipc envelope.
	ErrMalformed = errors.New("natsipc: malformed message")
	// ErrInvalidCluster: a cluster name outside [A-Za-z0-9_:-]{1,64} (no
	// dots: a cluster name is one NATS subject token).
	ErrInvalidCluster = errors.New("natsipc: invalid cluster name")
	// ErrConfig: a Config or LimiterConfig that cannot work (a nil
	// connection, a bad subject prefix, no MaxConcurrency), or a shard id
	// below zero.
	ErrConfig = errors.New("natsipc: bad config")
	// ErrMissing: a cluster that was a member when a Broadcast began
	// stopped sending heartbeats (or left) before it answered. It comes
	// wrapped with ipc.ErrConnectionLost.
	ErrMissing = errors.New("natsipc: cluster went missing")
)

// ValidCluster reports whether name can name a cluster:
// [A-Za-z0-9_:-]{1,64}.
func ValidCluster(name string) bool {
	if len(name) == 0 || len(name) > 64 {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == ':' || c == '-') {
			return false
		}
	}
	return true
}
