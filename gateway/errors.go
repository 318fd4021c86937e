package gateway

import (
	"errors"
	"strconv"
)

var (
	// ErrDecompress is returned when a zlib-stream or zstd-stream message
	// cannot be inflated. The stream state is lost: drop the connection and
	// RESUME on a new one (never IDENTIFY: the session is still valid).
	ErrDecompress = errors.New("gateway: undecodable compressed stream")
	// ErrPayloadTooLarge matches every *PayloadTooLargeError.
	ErrPayloadTooLarge = errors.New("gateway: payload too large")
	// ErrDecode matches every *DecodeError: a message that is not a gateway
	// payload Discord could have sent.
	ErrDecode = errors.New("gateway: undecodable payload")
	// ErrState is returned by calls that make no sense in the connection's
	// current state, such as Identify before HELLO or Resume without a
	// session.
	ErrState = errors.New("gateway: wrong connection state")
	// ErrClosed is returned by Next and the send methods once the WebSocket
	// is closed or broken; call Connect to start a new connection.
	ErrClosed = errors.New("gateway: connection closed")
	// ErrMessageTooBig is returned when a message exceeds Config.MaxMessage,
	// before or after decompression (a *ProtocolError with code 1009 when
	// a WebSocket frame announced it).
	ErrMessageTooBig = errors.New("gateway: message too big")
	// ErrProtocol matches every *ProtocolError: the server broke the
	// WebSocket protocol (RFC 6455) or the gateway's order of messages.
	ErrProtocol = errors.New("gateway: protocol violation")
	// ErrHandshake matches every *HandshakeError: the WebSocket upgrade
	// failed. The session is kept; a resume URL that failed is forgotten.
	ErrHandshake = errors.New("gateway: WebSocket upgrade failed")
)

// ProtocolError is a server breaking the WebSocket protocol (a masked or
// oversized frame, a bad close frame, invalid UTF-8) or the gateway's
// order (a dispatch before HELLO, a READY that answers no IDENTIFY, a
// RESUMED that answers no RESUME). The Conn has queued a close frame with
// Code; write Output, drop the connection and resume on a new one. The
// session is kept: nothing the violating message carried was applied.
type ProtocolError struct {
	Code   CloseCode // the close code sent: 1002, 1007 invalid UTF-8, 1009 too big
	Reason string
}

// Error says what the server did wrong.
func (e *ProtocolError) Error() string {
	return "gateway: protocol violation (" + strconv.Itoa(int(e.Code)) + "): " + e.Reason
}

// Is makes errors.Is(err, ErrProtocol) true, and errors.Is(err,
// ErrMessageTooBig) for a message over the size limit.
func (e *ProtocolError) Is(target error) bool {
	return target == ErrProtocol || (target == ErrMessageTooBig && e.Code == 1009)
}

// HandshakeError is a WebSocket upgrade that failed: the server answered
// with an HTTP status other than 101 (Status, and its Body), or with a
// reply that is not a valid upgrade (Status 0, or the status it sent).
type HandshakeError struct {
	Status int
	Reason string
	Body   []byte // the refusal's body, at most a few KiB
}

// Error says how the upgrade failed.
func (e *HandshakeError) Error() string {
	s := "gateway: WebSocket upgrade failed"
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

// MaxPayload is the largest payload Discord accepts from a client; a larger
// one makes it close the connection with 4002.
const MaxPayload = 4096

// PayloadTooLargeError is a send refused before it reached the socket,
// because Discord would have answered it with close code 4002.
type PayloadTooLargeError struct {
	Op   Opcode
	Size int // encoded size in bytes
}

// Error says which payload was refused and how large it was.
func (e *PayloadTooLargeError) Error() string {
	return "gateway: " + e.Op.String() + " payload of " + strconv.Itoa(e.Size) +
		" bytes exceeds the " + strconv.Itoa(MaxPayload) + "-byte limit"
}

// Is makes errors.Is(err, ErrPayloadTooLarge) true.
func (e *PayloadTooLargeError) Is(target error) bool { return target == ErrPayloadTooLarge }

// DecodeError is a received message that could not be read as a gateway
// payload. The connection is unusable afterwards (Discord never sends such
// a message, so the stream is corrupt): drop it and resume.
type DecodeError struct {
	Reason string
	Err    error // underlying error, if any
}

// Error says why the payload could not be read.
func (e *DecodeError) Error() string {
	s := "gateway: undecodable payload: " + e.Reason
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Is makes errors.Is(err, ErrDecode) true.
func (e *DecodeError) Is(target error) bool { return target == ErrDecode }

// Unwrap returns the underlying error.
func (e *DecodeError) Unwrap() error { return e.Err }

var errBadScheme = errors.New("gateway: URL scheme must be ws or wss")
