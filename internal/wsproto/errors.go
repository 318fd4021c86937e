package wsproto

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
)

var (
	// ErrProtocol matches every *ProtocolError: the peer broke RFC 6455 and
	// the connection must be closed with the error's code.
	ErrProtocol = errors.New("wsproto: protocol error")
	// ErrMessageTooBig matches a *ProtocolError raised because a message
	// would exceed Decoder.MaxMessage (close code 1009).
	ErrMessageTooBig = errors.New("wsproto: message too big")
	// ErrHandshake matches every failed opening handshake, on either side.
	ErrHandshake = errors.New("wsproto: handshake failed")
)

// ProtocolError is a violation of RFC 6455 by the peer, found while
// decoding. Code is the close code to send before dropping the connection.
type ProtocolError struct {
	Code   CloseCode // 1002 protocol error, 1007 invalid UTF-8, 1009 too big
	Reason string    // human-readable; short enough for a close frame
}

func (e *ProtocolError) Error() string {
	return "wsproto: protocol error (" + strconv.Itoa(int(e.Code)) + "): " + e.Reason
}

// Is makes errors.Is(err, ErrProtocol) true for every ProtocolError, and
// errors.Is(err, ErrMessageTooBig) for the size violations.
func (e *ProtocolError) Is(target error) bool {
	return target == ErrProtocol || (target == ErrMessageTooBig && e.Code == CloseMessageTooBig)
}

func protocolErr(code CloseCode, format string, args ...any) *ProtocolError {
	return &ProtocolError{Code: code, Reason: fmt.Sprintf(format, args...)}
}

// HandshakeError is an opening handshake refused with an HTTP status. On the
// server side (CheckRequest) it is the answer to give the client, which
// Respond writes; on the client side (ParseResponse) it is what the server
// answered instead of 101 Switching Protocols.
type HandshakeError struct {
	Status int         // HTTP status code
	Header http.Header // response headers (e.g. Sec-WebSocket-Version with 426)
	Body   []byte      // the server's body (client side), or nil
	Reason string      // why, for logs and for the body Respond writes
}

func (e *HandshakeError) Error() string {
	s := "wsproto: handshake failed: status " + strconv.Itoa(e.Status)
	if e.Reason != "" {
		s += ": " + e.Reason
	}
	return s
}

// Is makes errors.Is(err, ErrHandshake) true for every HandshakeError.
func (e *HandshakeError) Is(target error) bool { return target == ErrHandshake }

// Respond writes the refusal to w: e.Header, the status and e.Reason as a
// plain-text body. It is how a server answers a request CheckRequest
// refused.
func (e *HandshakeError) Respond(w http.ResponseWriter) {
	h := w.Header()
	for k, v := range e.Header {
		h[k] = append([]string(nil), v...)
	}
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(e.Status)
	_, _ = w.Write([]byte(e.Reason + "\n"))
}

// Refuse answers an upgrade request that CheckRequest refused: with the
// refusal's status, headers and reason (every CheckRequest error is a
// *HandshakeError), or 400 for any other error.
func Refuse(w http.ResponseWriter, err error) {
	var he *HandshakeError
	if errors.As(err, &he) && he.Status != 0 {
		he.Respond(w)
		return
	}
	http.Error(w, err.Error(), http.StatusBadRequest)
}

func handshakeErr(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrHandshake}, args...)...)
}
