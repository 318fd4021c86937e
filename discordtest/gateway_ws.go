package discordtest

// The WebSocket seam of the fake gateway: the server side of the opening
// handshake, a message reader and frame writers. The fake owns every byte it
// writes so that faults such as "cut the connection mid-frame" are exact.
//
// This file is the only place that knows the WebSocket wire format; it is
// meant to shrink to thin calls into internal/wsproto once that package is
// on main.

import (
	"bufio"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"unicode/utf8"
)

// WebSocket opcodes (RFC 6455 section 5.2).
const (
	wsContinuation = 0x0
	wsText         = 0x1
	wsBinary       = 0x2
	wsClose        = 0x8
	wsPing         = 0x9
	wsPong         = 0xA
)

// wsMaxMessage bounds a reassembled client message. Anything past 4096
// bytes is already a 4002 for Discord; the larger bound only keeps a
// misbehaving client from making the fake buffer without limit.
const wsMaxMessage = 1 << 16

var (
	errWSHandshake = errors.New("discordtest: bad websocket handshake")
	errWSProtocol  = errors.New("discordtest: websocket protocol error")
	errWSTooBig    = errors.New("discordtest: websocket message too big")
)

// wsMessage is one reassembled data message or one close frame.
type wsMessage struct {
	op          byte
	payload     []byte
	closeCode   int // for wsClose: 1005 when the frame had no code
	closeReason string
}

// wsCheckRequest validates a client's upgrade request and returns its key.
func wsCheckRequest(r *http.Request) (string, error) {
	if r.Method != http.MethodGet {
		return "", fmt.Errorf("%w: method %s", errWSHandshake, r.Method)
	}
	if !headerHas(r.Header, "Connection", "upgrade") || !headerHas(r.Header, "Upgrade", "websocket") {
		return "", fmt.Errorf("%w: not an upgrade request", errWSHandshake)
	}
	if r.Header.Get("Sec-WebSocket-Version") != "13" {
		return "", fmt.Errorf("%w: unsupported version %q", errWSHandshake, r.Header.Get("Sec-WebSocket-Version"))
	}
	key := r.Header.Get("Sec-WebSocket-Key")
	if b, err := base64.StdEncoding.DecodeString(key); err != nil || len(b) != 16 {
		return "", fmt.Errorf("%w: bad Sec-WebSocket-Key", errWSHandshake)
	}
	return key, nil
}

func headerHas(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for _, t := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

// wsAppendResponse appends the 101 response that accepts key.
func wsAppendResponse(dst []byte, key string) []byte {
	h := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	dst = append(dst, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: "...)
	dst = base64.StdEncoding.AppendEncode(dst, h[:])
	return append(dst, "\r\n\r\n"...)
}

// wsAppendFrame appends one unmasked, final server frame.
func wsAppendFrame(dst []byte, op byte, payload []byte) []byte {
	dst = wsAppendHeader(dst, op, len(payload))
	return append(dst, payload...)
}

func wsAppendHeader(dst []byte, op byte, n int) []byte {
	dst = append(dst, 0x80|op)
	switch {
	case n < 126:
		dst = append(dst, byte(n))
	case n <= 0xFFFF:
		dst = append(dst, 126)
		dst = binary.BigEndian.AppendUint16(dst, uint16(n))
	default:
		dst = append(dst, 127)
		dst = binary.BigEndian.AppendUint64(dst, uint64(n))
	}
	return dst
}

// wsAppendClose appends a close frame carrying code and reason.
func wsAppendClose(dst []byte, code int, reason string) []byte {
	if len(reason) > 123 {
		reason = reason[:123]
	}
	p := binary.BigEndian.AppendUint16(make([]byte, 0, 2+len(reason)), uint16(code))
	p = append(p, reason...)
	return wsAppendFrame(dst, wsClose, p)
}

// wsReader reassembles the client's messages from a byte stream. Pings are
// reported so the caller can answer them in order with its other writes.
type wsReader struct {
	r    *bufio.Reader
	frag []byte
	fop  byte
	hdr  [14]byte
}

func (d *wsReader) next() (wsMessage, error) {
	for {
		fin, op, payload, err := d.frame()
		if err != nil {
			return wsMessage{}, err
		}
		switch op {
		case wsClose:
			m := wsMessage{op: wsClose, closeCode: 1005}
			if len(payload) == 1 {
				return wsMessage{}, fmt.Errorf("%w: one-byte close payload", errWSProtocol)
			}
			if len(payload) >= 2 {
				m.closeCode = int(binary.BigEndian.Uint16(payload))
				m.closeReason = string(payload[2:])
			}
			return m, nil
		case wsPing, wsPong:
			return wsMessage{op: op, payload: payload}, nil
		case wsText, wsBinary:
			if d.fop != 0 {
				return wsMessage{}, fmt.Errorf("%w: new message inside a fragmented one", errWSProtocol)
			}
			if fin {
				return d.finish(op, payload)
			}
			d.fop, d.frag = op, append(d.frag[:0], payload...)
		case wsContinuation:
			if d.fop == 0 {
				return wsMessage{}, fmt.Errorf("%w: continuation without a message", errWSProtocol)
			}
			if len(d.frag)+len(payload) > wsMaxMessage {
				return wsMessage{}, errWSTooBig
			}
			d.frag = append(d.frag, payload...)
			if fin {
				op := d.fop
				d.fop = 0
				return d.finish(op, d.frag)
			}
		default:
			return wsMessage{}, fmt.Errorf("%w: opcode %#x", errWSProtocol, op)
		}
	}
}

func (d *wsReader) finish(op byte, p []byte) (wsMessage, error) {
	if op == wsText && !utf8.Valid(p) {
		return wsMessage{}, fmt.Errorf("%w: text message is not UTF-8", errWSProtocol)
	}
	return wsMessage{op: op, payload: append([]byte(nil), p...)}, nil
}

func (d *wsReader) frame() (fin bool, op byte, payload []byte, err error) {
	h := d.hdr[:2]
	if _, err = io.ReadFull(d.r, h); err != nil {
		return
	}
	fin, op = h[0]&0x80 != 0, h[0]&0x0F
	if h[0]&0x70 != 0 {
		return fin, op, nil, fmt.Errorf("%w: reserved bits set", errWSProtocol)
	}
	if h[1]&0x80 == 0 {
		return fin, op, nil, fmt.Errorf("%w: client frame not masked", errWSProtocol)
	}
	n := uint64(h[1] & 0x7F)
	switch n {
	case 126:
		if _, err = io.ReadFull(d.r, d.hdr[:2]); err != nil {
			return
		}
		n = uint64(binary.BigEndian.Uint16(d.hdr[:2]))
	case 127:
		if _, err = io.ReadFull(d.r, d.hdr[:8]); err != nil {
			return
		}
		n = binary.BigEndian.Uint64(d.hdr[:8])
	}
	if op >= 0x8 && (n > 125 || !fin) {
		return fin, op, nil, fmt.Errorf("%w: bad control frame", errWSProtocol)
	}
	if n > wsMaxMessage {
		return fin, op, nil, errWSTooBig
	}
	var mask [4]byte
	if _, err = io.ReadFull(d.r, mask[:]); err != nil {
		return
	}
	payload = make([]byte, n)
	if _, err = io.ReadFull(d.r, payload); err != nil {
		return
	}
	for i := range payload {
		payload[i] ^= mask[i&3]
	}
	return fin, op, payload, nil
}
