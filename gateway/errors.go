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
	// ErrMessageTooBig is returned when a decompressed message exceeds
	// Config.MaxMessage.
	ErrMessageTooBig = errors.New("gateway: message too big")
)

// MaxPayload is the largest payload Discord accepts from a client; a larger
// one makes it close the connection with 4002.
const MaxPayload = 4096

// PayloadTooLargeError is a send refused before it reached the socket,
// because Discord would have answered it with close code 4002.
type PayloadTooLargeError struct {
	Op   Opcode
	Size int // encoded size in bytes
}

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
