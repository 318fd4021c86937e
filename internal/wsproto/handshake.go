package wsproto

import (
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"net/http"
	"sort"
	"strings"
)

// acceptGUID is the fixed string RFC 6455 appends to the client's key.
const acceptGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// NewKey returns a fresh Sec-WebSocket-Key: 16 random bytes, base64.
func NewKey() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails since Go 1.24
	return base64.StdEncoding.EncodeToString(b[:])
}

// AcceptKey returns the Sec-WebSocket-Accept value that proves a server
// read the client's key: base64(SHA-1(key + GUID)).
func AcceptKey(key string) string {
	h := sha1.New()
	h.Write([]byte(key))
	h.Write([]byte(acceptGUID))
	return base64.StdEncoding.EncodeToString(h.Sum(nil))
}

// handshakeHeaders are set by this package; copies in a caller's extra
// header would contradict them, so they are skipped.
var handshakeHeaders = map[string]bool{
	"Upgrade":                  true,
	"Connection":               true,
	"Sec-Websocket-Key":        true,
	"Sec-Websocket-Version":    true,
	"Sec-Websocket-Accept":     true,
	"Sec-Websocket-Protocol":   true,
	"Sec-Websocket-Extensions": true,
	"Content-Length":           true,
	"Transfer-Encoding":        true,
}

// appendHeaderLine appends "Key: value\r\n", replacing CR and LF in either
// so that a caller's value cannot inject a header or end the head early.
func appendHeaderLine(dst []byte, key, value string) []byte {
	dst = appendClean(dst, key)
	dst = append(dst, ": "...)
	dst = appendClean(dst, value)
	return append(dst, "\r\n"...)
}

func appendClean(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\r' || c == '\n' {
			c = ' '
		}
		dst = append(dst, c)
	}
	return dst
}

// appendExtra appends the caller's headers in sorted order, so the bytes
// are deterministic, leaving out the ones the handshake owns (and Host,
// which the request writes itself).
func appendExtra(dst []byte, h http.Header) []byte {
	keys := make([]string, 0, len(h))
	for k := range h {
		ck := http.CanonicalHeaderKey(k)
		if handshakeHeaders[ck] || ck == "Host" {
			continue
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, v := range h[k] {
			dst = appendHeaderLine(dst, k, v)
		}
	}
	return dst
}

// hasToken reports whether any of the comma-separated values holds token,
// compared case-insensitively (Connection: keep-alive, Upgrade).
func hasToken(values []string, token string) bool {
	for _, v := range values {
		for part := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(part), token) {
				return true
			}
		}
	}
	return false
}

// splitList returns the trimmed, non-empty elements of comma-separated
// header values, in order.
func splitList(values []string) []string {
	var out []string
	for _, v := range values {
		for part := range strings.SplitSeq(v, ",") {
			if part = strings.TrimSpace(part); part != "" {
				out = append(out, part)
			}
		}
	}
	return out
}
