package wsproto

import (
	"bufio"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"time"
)

// CheckRequest checks that r is a valid WebSocket opening handshake and
// returns its Sec-WebSocket-Key for AcceptKey and AppendResponse. It wants
// GET over HTTP/1.1 or later, Upgrade: websocket and Connection: upgrade
// (as tokens in lists, case-insensitively), Sec-WebSocket-Version 13 and a
// key that decodes to 16 bytes. Every refusal is a *HandshakeError with
// status 400, or 426 with Sec-WebSocket-Version: 13 for another version, so
// the handler can answer it with Respond.
func CheckRequest(r *http.Request) (key string, err error) {
	bad := func(format string, args ...any) error {
		return &HandshakeError{Status: http.StatusBadRequest, Reason: fmt.Sprintf(format, args...)}
	}
	if r.Method != http.MethodGet {
		return "", bad("WebSocket handshake must be a GET, not %s", r.Method)
	}
	if !r.ProtoAtLeast(1, 1) {
		return "", bad("WebSocket handshake needs HTTP/1.1, not %s", r.Proto)
	}
	if !hasToken(r.Header.Values("Upgrade"), "websocket") {
		return "", bad("missing Upgrade: websocket")
	}
	if !hasToken(r.Header.Values("Connection"), "upgrade") {
		return "", bad("missing Connection: upgrade")
	}
	if v := r.Header.Values("Sec-Websocket-Version"); len(v) != 1 || v[0] != "13" {
		return "", &HandshakeError{
			Status: http.StatusUpgradeRequired,
			Header: http.Header{"Sec-Websocket-Version": {"13"}},
			Reason: fmt.Sprintf("unsupported Sec-WebSocket-Version %q, want 13", v),
		}
	}
	keys := r.Header.Values("Sec-Websocket-Key")
	if len(keys) != 1 {
		return "", bad("want exactly one Sec-WebSocket-Key, got %d", len(keys))
	}
	if raw, err := base64.StdEncoding.DecodeString(keys[0]); err != nil || len(raw) != 16 {
		return "", bad("Sec-WebSocket-Key %q is not 16 bytes in base64", keys[0])
	}
	return keys[0], nil
}

// Subprotocols returns the subprotocols the client offered, in its order of
// preference, from comma-separated lists and repeated headers alike.
func Subprotocols(r *http.Request) []string {
	return splitList(r.Header.Values("Sec-Websocket-Protocol"))
}

// AppendResponse appends the server's 101 Switching Protocols reply to dst.
// subprotocol and extensions are left out when empty; extra headers are
// written in sorted order, minus the ones the handshake sets itself.
func AppendResponse(dst []byte, key, subprotocol, extensions string, extra http.Header) []byte {
	dst = append(dst, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"...)
	dst = appendHeaderLine(dst, "Sec-WebSocket-Accept", AcceptKey(key))
	if subprotocol != "" {
		dst = appendHeaderLine(dst, "Sec-WebSocket-Protocol", subprotocol)
	}
	if extensions != "" {
		dst = appendHeaderLine(dst, "Sec-WebSocket-Extensions", extensions)
	}
	dst = appendExtra(dst, extra)
	return append(dst, "\r\n"...)
}

// Hijack takes the connection of a net/http handler over for WebSocket use,
// after CheckRequest accepted the request. It returns the raw connection
// with the deadlines net/http set cleared, and the bytes the client sent
// after its request that net/http had already read: a client may send its
// first frames in the same segment as the upgrade, so feed them to the
// Decoder before reading from conn. The caller then writes the
// AppendResponse bytes to conn and owns it (including closing it); Accept
// does both steps for a response without extra headers.
//
// It works through middleware that wraps the ResponseWriter, as long as the
// wrapper has an Unwrap method (see http.ResponseController).
func Hijack(w http.ResponseWriter) (conn net.Conn, buffered []byte, err error) {
	var brw *bufio.ReadWriter
	conn, brw, err = http.NewResponseController(w).Hijack()
	if err != nil {
		return nil, nil, fmt.Errorf("%w: hijack: %w", ErrHandshake, err)
	}
	if n := brw.Reader.Buffered(); n > 0 {
		buffered = make([]byte, n)
		_, _ = brw.Reader.Read(buffered) // served from the buffer: never blocks, never short
	}
	if err := conn.SetDeadline(time.Time{}); err != nil {
		conn.Close()
		return nil, nil, fmt.Errorf("%w: clearing deadlines: %w", ErrHandshake, err)
	}
	return conn, buffered, nil
}

// Accept completes a handshake CheckRequest accepted: it takes the
// connection over (see Hijack) and writes the 101 response with the given
// subprotocol and extensions (either may be empty). It returns the
// connection, which the caller then owns, and the early bytes to feed the
// Decoder. On error the request has been dealt with: answered 500 when
// the connection could not be taken over, else closed.
func Accept(w http.ResponseWriter, key, subprotocol, extensions string) (conn net.Conn, buffered []byte, err error) {
	conn, buffered, err = Hijack(w)
	if err != nil {
		http.Error(w, "cannot take over the connection", http.StatusInternalServerError)
		return nil, nil, err
	}
	if _, err := conn.Write(AppendResponse(nil, key, subprotocol, extensions, nil)); err != nil {
		conn.Close()
		return nil, nil, fmt.Errorf("%w: writing the response: %w", ErrHandshake, err)
	}
	return conn, buffered, nil
}
