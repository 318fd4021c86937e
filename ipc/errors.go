package ipc

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/ipcord/ipcord/internal/wsproto"
)

// Error codes carried by err frames. A handler may use its own codes too.
const (
	CodeUnknownRoute  = "unknown_route"
	CodeUnknownClient = "unknown_client"
	CodeBadRequest    = "bad_request"
	CodeHandlerError  = "handler_error"
	CodeEncodeError   = "encode_error"
	CodeTimeout       = "timeout"
	CodeCanceled      = "canceled"
	CodeOverloaded    = "overloaded"
	CodeUnauthorized  = "unauthorized"
	CodeShuttingDown  = "shutting_down"
	CodeUnsupported   = "unsupported"
	// CodeTooLarge: the request or its reply is larger than the side that
	// would receive it accepts; that call fails, the connection lives on.
	CodeTooLarge = "too_large"
)

// Error is an error with a code that travels between peers: what a handler
// returns to fail a call with its own code, and what a caller gets back when
// the remote side failed the call.
//
// Test for a code with errors.Is against the package's sentinels (errors.Is
// matches on Code alone) or errors.As for the message.
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string {
	if e.Message == "" {
		return "ipc: " + e.Code
	}
	return "ipc: " + e.Code + ": " + e.Message
}

// Is reports whether target is an *Error with the same code and either no
// message or the same message, so sentinels match any message. A timeout
// also matches context.DeadlineExceeded, a cancellation context.Canceled.
func (e *Error) Is(target error) bool {
	// A remote timeout or cancellation is also the context error a local
	// one would be, so callers need one check for either.
	switch {
	case target == context.DeadlineExceeded:
		return e.Code == CodeTimeout
	case target == context.Canceled:
		return e.Code == CodeCanceled
	}
	t, ok := target.(*Error)
	return ok && t.Code == e.Code && (t.Message == "" || t.Message == e.Message)
}

// Sentinels for the protocol's codes, for errors.Is.
var (
	ErrUnknownRoute  = &Error{Code: CodeUnknownRoute}
	ErrUnknownClient = &Error{Code: CodeUnknownClient}
	ErrBadRequest    = &Error{Code: CodeBadRequest}
	ErrHandler       = &Error{Code: CodeHandlerError}
	ErrEncode        = &Error{Code: CodeEncodeError}
	ErrTimeout       = &Error{Code: CodeTimeout}
	ErrCanceled      = &Error{Code: CodeCanceled}
	ErrOverloaded    = &Error{Code: CodeOverloaded}
	ErrUnauthorized  = &Error{Code: CodeUnauthorized}
	ErrShuttingDown  = &Error{Code: CodeShuttingDown}
	ErrUnsupported   = &Error{Code: CodeUnsupported}
	ErrTooLarge      = &Error{Code: CodeTooLarge}
)

// Errors of the transport itself, for errors.Is.
var (
	// ErrClosed: the Client or Server was closed by its owner.
	ErrClosed = errors.New("ipc: closed")
	// ErrNotConnected: the call's deadline passed while the client was
	// waiting for a connection; the request was never sent.
	ErrNotConnected = errors.New("ipc: not connected")
	// ErrUnreachable: Dial, with ClientConfig.FailFast, found nothing to
	// connect to at the URL. The error wraps the network's too (a
	// *net.OpError), which says why.
	ErrUnreachable = errors.New("ipc: server unreachable")
	// ErrBadURL: Dial was given a URL it cannot connect to: not a URL,
	// not ws:// or wss://, or without a host.
	ErrBadURL = errors.New("ipc: bad URL")
	// ErrConnectionLost: the connection dropped after the request was sent.
	// The request is not sent again: it may or may not have run.
	ErrConnectionLost = errors.New("ipc: connection lost")
	// ErrHandshake: the WebSocket upgrade failed; a *HandshakeError says
	// how.
	ErrHandshake = errors.New("ipc: WebSocket upgrade failed")
	// ErrDuplicateIdentifier: the server already has a client with this
	// identifier (close code 4102).
	ErrDuplicateIdentifier = errors.New("ipc: duplicate client identifier")
	// ErrVersion: the peer does not speak this protocol, or not this
	// version of it: a close 4400, a server that refused the ipcord.v1
	// subprotocol or did not begin with a hello, a discovery listener
	// that answered other than 200 with its list.
	ErrVersion = errors.New("ipc: unsupported protocol version")
	// ErrInvalidName: a route name the transport cannot carry: an empty
	// one anywhere, one outside [A-Za-z0-9_.:-]{1,64} on the native
	// protocol and NATS.
	ErrInvalidName = errors.New("ipc: invalid route name")
	// ErrBadHandler: a route that cannot be served: a nil Handler, or
	// (Methods) a method of another shape or a value with no exported
	// methods.
	ErrBadHandler = errors.New("ipc: bad handler")
	// ErrDuplicateRoute: a route name registered twice.
	ErrDuplicateRoute = errors.New("ipc: route already registered")
)

// Close codes of the native protocol.
const (
	closeDuplicate = 4102
	closeVersion   = 4400
)

// AsError maps any handler error onto the wire: an *Error keeps its code,
// context errors become timeout/canceled, anything else is handler_error
// with the error's text.
func AsError(err error) *Error {
	var e *Error
	switch {
	case errors.As(err, &e):
		return e
	case errors.Is(err, context.DeadlineExceeded):
		return &Error{Code: CodeTimeout, Message: err.Error()}
	case errors.Is(err, context.Canceled):
		return &Error{Code: CodeCanceled, Message: err.Error()}
	default:
		return &Error{Code: CodeHandlerError, Message: err.Error()}
	}
}

// HandshakeError is a WebSocket upgrade that failed: the server answered
// with an HTTP status other than 101 (Status), or with a reply that is not
// a valid upgrade (Status 0, or the status it sent). A wrong secret is
// ErrUnauthorized instead.
type HandshakeError struct {
	Status int
	Reason string
}

// Error says how the upgrade failed.
func (e *HandshakeError) Error() string {
	s := "ipc: WebSocket upgrade failed"
	if e.Status != 0 {
		s += ": status " + strconv.Itoa(e.Status)
	}
	if e.Reason != "" {
		s += ": " + e.Reason
	}
	return s
}

// Is makes errors.Is(err, ErrHandshake) true.
func (e *HandshakeError) Is(target error) bool { return target == ErrHandshake }

// handshakeError turns wsproto's upgrade failure into a *HandshakeError,
// the type callers can match (wsproto is internal).
func handshakeError(err error) error {
	var he *wsproto.HandshakeError
	if errors.As(err, &he) {
		return &HandshakeError{Status: he.Status, Reason: he.Reason}
	}
	return &HandshakeError{Reason: strings.TrimPrefix(err.Error(), "wsproto: handshake failed: ")}
}
