package natsipc

import (
	"context"
	"errors"
	"fmt"

	"github.com/ipcord/ipcord/ipc"
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
	// ErrMissing: a cluster that was a member when a Broadcast began
	// stopped sending heartbeats (or left) before it answered. It comes
	// wrapped with ipc.ErrConnectionLost.
	ErrMissing = errors.New("natsipc: cluster went missing")
)

// ctxError turns a finished context into the error a caller gets, matching
// both the ipc code and the context's own error, as ipc's transport does.
func ctxError(ctx context.Context) error {
	cause := context.Cause(ctx)
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("%w: %w", ipc.ErrTimeout, cause)
	}
	return fmt.Errorf("%w: %w", ipc.ErrCanceled, cause)
}

// asError maps a handler's error onto the wire, as ipc's transport does:
// an *ipc.Error keeps its code, context errors become timeout/canceled,
// anything else is handler_error.
func asError(err error) *ipc.Error {
	var e *ipc.Error
	switch {
	case errors.As(err, &e):
		return e
	case errors.Is(err, context.DeadlineExceeded):
		return &ipc.Error{Code: ipc.CodeTimeout, Message: err.Error()}
	case errors.Is(err, context.Canceled):
		return &ipc.Error{Code: ipc.CodeCanceled, Message: err.Error()}
	default:
		return &ipc.Error{Code: ipc.CodeHandlerError, Message: err.Error()}
	}
}

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
