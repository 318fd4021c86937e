package wsproto

import (
	"bytes"
	"net/http"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
)

// MaxResponseHeader bounds the server's handshake reply (status line and
// headers): ParseResponse fails past it instead of waiting for ever.
const MaxResponseHeader = 16 << 10

// maxErrorBody bounds the body of a refusal kept in a HandshakeError.
const maxErrorBody = 64 << 10

// Request is a client's opening handshake.
type Request struct {
	URL          *url.URL    // ws:// or wss://; path and query are sent, Host comes from URL.Host
	Key          string      // Sec-WebSocket-Key, from NewKey
	Subprotocols []string    // offered in Sec-WebSocket-Protocol, in order of preference
	Extensions   string      // Sec-WebSocket-Extensions offer, sent verbatim
	Header       http.Header // extra headers (Authorization, User-Agent, ...); a Host entry overrides URL.Host
}

// Append appends the full HTTP/1.1 upgrade request to dst. Extra headers
// come out in sorted order; those the handshake sets itself are skipped, and
// CR or LF inside any value is replaced so it cannot inject headers.
func (r *Request) Append(dst []byte) []byte {
	target, host := "/", ""
	if r.URL != nil {
		target, host = r.URL.RequestURI(), r.URL.Host
	}
	if h := r.Header.Get("Host"); h != "" {
		host = h
	}
	dst = append(dst, "GET "...)
	dst = appendClean(dst, target)
	dst = append(dst, " HTTP/1.1\r\n"...)
	dst = appendHeaderLine(dst, "Host", host)
	dst = append(dst, "Upgrade: websocket\r\nConnection: Upgrade\r\n"...)
	dst = appendHeaderLine(dst, "Sec-WebSocket-Key", r.Key)
	dst = append(dst, "Sec-WebSocket-Version: 13\r\n"...)
	if len(r.Subprotocols) > 0 {
		dst = appendHeaderLine(dst, "Sec-WebSocket-Protocol", strings.Join(r.Subprotocols, ", "))
	}
	if r.Extensions != "" {
		dst = appendHeaderLine(dst, "Sec-WebSocket-Extensions", r.Extensions)
	}
	dst = appendExtra(dst, r.Header)
	return append(dst, "\r\n"...)
}

// Response is the server's reply to an opening handshake.
type Response struct {
	Status      int         // 101 on success
	Header      http.Header // every header, canonical keys
	Subprotocol string      // the subprotocol the server chose, "" for none
	Extensions  string      // Sec-WebSocket-Extensions as the server sent it
	Body        []byte      // for a refusal only: its body, once complete (see ParseResponse)
}

// ParseResponse parses the server's reply to req from the start of buf.
// ok=false with a nil error means the reply is incomplete: read more and
// call again with all the bytes. On success n is the length of the reply,
// and buf[n:] is already the start of the frame stream.
//
// A status other than 101 is a *HandshakeError holding the status, headers
// and body (resp is returned too). The body is awaited when Content-Length
// announces at most 64 KiB; otherwise Body is whatever followed the headers
// in buf. A 101 reply with a wrong Sec-WebSocket-Accept, without the Upgrade
// and Connection tokens, with a subprotocol that was not offered or with
// extensions when none were offered is an error wrapping ErrHandshake. A
// head longer than MaxResponseHeader is an error, never unbounded growth.
func ParseResponse(buf []byte, req *Request) (resp *Response, n int, ok bool, err error) {
	end := bytes.Index(buf[:min(len(buf), MaxResponseHeader)], []byte("\r\n\r\n"))
	if end < 0 {
		if len(buf) >= MaxResponseHeader {
			return nil, 0, false, handshakeErr("response head exceeds %d bytes", MaxResponseHeader)
		}
		return nil, 0, false, nil
	}
	n = end + 4
	resp, err = parseHead(buf[:end])
	if err != nil {
		return nil, 0, false, err
	}
	if resp.Status != http.StatusSwitchingProtocols {
		return refusal(resp, buf, n)
	}
	if err := checkAccept(resp, req); err != nil {
		return resp, 0, false, err
	}
	return resp, n, true, nil
}

// parseHead parses a status line and headers (without the final CRLFCRLF).
func parseHead(head []byte) (*Response, error) {
	line, rest, _ := bytes.Cut(head, []byte("\r\n"))
	proto, status, ok := bytes.Cut(line, []byte(" "))
	if !ok || !bytes.HasPrefix(proto, []byte("HTTP/1.")) {
		return nil, handshakeErr("malformed status line %q", truncate(line))
	}
	code, _, _ := bytes.Cut(status, []byte(" "))
	st, err := strconv.Atoi(string(code))
	if err != nil || len(code) != 3 || st < 100 {
		return nil, handshakeErr("malformed status line %q", truncate(line))
	}
	resp := &Response{Status: st, Header: make(http.Header)}
	for len(rest) > 0 {
		line, rest, _ = bytes.Cut(rest, []byte("\r\n"))
		k, v, ok := bytes.Cut(line, []byte(":"))
		if !ok || len(k) == 0 || bytes.ContainsAny(k, " \t") {
			return nil, handshakeErr("malformed header line %q", truncate(line))
		}
		key := textproto.CanonicalMIMEHeaderKey(string(k))
		resp.Header[key] = append(resp.Header[key], string(bytes.TrimSpace(v)))
	}
	return resp, nil
}

func truncate(b []byte) []byte {
	if len(b) > 64 {
		return b[:64]
	}
	return b
}

// refusal completes a non-101 reply: it waits for a small announced body,
// then returns it as a HandshakeError.
func refusal(resp *Response, buf []byte, n int) (*Response, int, bool, error) {
	body := buf[n:]
	if cl, err := strconv.Atoi(resp.Header.Get("Content-Length")); err == nil && cl >= 0 && cl <= maxErrorBody {
		if len(body) < cl {
			return nil, 0, false, nil
		}
		body = body[:cl]
	} else if len(body) > maxErrorBody {
		body = body[:maxErrorBody]
	}
	resp.Body = bytes.Clone(body)
	n += len(body)
	return resp, n, false, &HandshakeError{
		Status: resp.Status,
		Header: resp.Header,
		Body:   resp.Body,
		Reason: "server refused the upgrade: " + http.StatusText(resp.Status),
	}
}

// checkAccept checks a 101 reply against the request that caused it.
func checkAccept(resp *Response, req *Request) error {
	h := resp.Header
	if !hasToken(h.Values("Upgrade"), "websocket") {
		return handshakeErr("101 response without Upgrade: websocket")
	}
	if !hasToken(h.Values("Connection"), "upgrade") {
		return handshakeErr("101 response without Connection: upgrade")
	}
	if got, want := h.Get("Sec-Websocket-Accept"), AcceptKey(req.Key); got != want {
		return handshakeErr("Sec-WebSocket-Accept is %q, want %q", got, want)
	}
	protos := h.Values("Sec-Websocket-Protocol")
	if len(protos) > 1 {
		return handshakeErr("server chose more than one subprotocol")
	}
	if len(protos) == 1 {
		resp.Subprotocol = strings.TrimSpace(protos[0])
		offered := false
		for _, p := range req.Subprotocols {
			offered = offered || p == resp.Subprotocol
		}
		if !offered {
			return handshakeErr("server chose subprotocol %q, which was not offered", resp.Subprotocol)
		}
	}
	resp.Extensions = strings.Join(h.Values("Sec-Websocket-Extensions"), ", ")
	if resp.Extensions != "" && req.Extensions == "" {
		return handshakeErr("server accepted extensions %q, none were offered", resp.Extensions)
	}
	return nil
}
