package wsproto

import (
	"encoding/binary"
	"math/rand/v2"
	"strconv"
	"unicode/utf8"
)

// Role is which end of a connection the local side is. It decides masking:
// a client masks every frame it sends, a server never does.
type Role uint8

// The two roles of RFC 6455.
const (
	Client Role = iota
	Server
)

func (r Role) String() string {
	switch r {
	case Client:
		return "client"
	case Server:
		return "server"
	}
	return "Role(" + strconv.Itoa(int(r)) + ")"
}

// Opcode is the kind of a frame (RFC 6455 section 5.2).
type Opcode uint8

// The opcodes RFC 6455 defines; the others are reserved and refused.
const (
	OpContinuation Opcode = 0
	OpText         Opcode = 1
	OpBinary       Opcode = 2
	OpClose        Opcode = 8
	OpPing         Opcode = 9
	OpPong         Opcode = 10
)

// IsControl reports whether op is a control opcode (close, ping, pong and
// the reserved 0xB-0xF), which may not be fragmented.
func (op Opcode) IsControl() bool { return op&0x8 != 0 }

func (op Opcode) String() string {
	switch op {
	case OpContinuation:
		return "continuation"
	case OpText:
		return "text"
	case OpBinary:
		return "binary"
	case OpClose:
		return "close"
	case OpPing:
		return "ping"
	case OpPong:
		return "pong"
	}
	return "Opcode(" + strconv.Itoa(int(op)) + ")"
}

// CloseCode is the status code of a close frame (RFC 6455 section 7.4).
type CloseCode uint16

// Close codes from RFC 6455 section 7.4.1. CloseNoStatus and CloseAbnormal
// are never sent: they describe a close without a code and a connection
// lost without a close frame.
const (
	CloseNormal             CloseCode = 1000
	CloseGoingAway          CloseCode = 1001
	CloseProtocolError      CloseCode = 1002
	CloseUnsupportedData    CloseCode = 1003
	CloseNoStatus           CloseCode = 1005
	CloseAbnormal           CloseCode = 1006
	CloseInvalidPayload     CloseCode = 1007
	ClosePolicyViolation    CloseCode = 1008
	CloseMessageTooBig      CloseCode = 1009
	CloseMandatoryExtension CloseCode = 1010
	CloseInternalError      CloseCode = 1011
)

// Valid reports whether c may appear in a close frame on the wire: the
// defined codes 1000-1003 and 1007-1011, the IANA-registered 1012-1014
// (service restart, try again later, bad gateway: proxies in front of
// Discord send them), and the 3000-4999 range left to libraries and
// applications (Discord's 4xxx codes live there).
func (c CloseCode) Valid() bool {
	switch {
	case c >= 1000 && c <= 1003, c >= 1007 && c <= 1014:
		return true
	case c >= 3000 && c <= 4999:
		return true
	}
	return false
}

func (c CloseCode) String() string { return strconv.Itoa(int(c)) }

// maxControlPayload is the largest payload a control frame may carry.
const maxControlPayload = 125

// maxCloseReason is what is left of a control payload after the code.
const maxCloseReason = maxControlPayload - 2

// AppendFrame appends one frame to dst and returns the extended slice; it
// allocates nothing when dst has room. A Client-role frame is masked with
// key, as RFC 6455 requires of clients; a Server-role frame is never masked
// and key is ignored. Set fin on the last (or only) frame of a message; a
// continuation frame has op OpContinuation. rsv1 marks a compressed message
// and is only meaningful when permessage-deflate was negotiated.
//
// AppendFrame does not check its arguments: a control frame over 125 bytes
// or a fragmented one is encoded as asked, so the caller must not ask.
func AppendFrame(dst []byte, role Role, op Opcode, fin, rsv1 bool, key [4]byte, payload []byte) []byte {
	dst = appendHeader(dst, role, op, fin, rsv1, key, len(payload))
	start := len(dst)
	dst = append(dst, payload...)
	if role == Client {
		mask(dst[start:], key)
	}
	return dst
}

// AppendClose appends a close frame carrying code and reason. Code 0 sends
// an empty body (the peer sees CloseNoStatus) and ignores reason. A reason
// longer than 123 bytes, the room a control frame leaves, is cut on a rune
// boundary. Masking follows role as in AppendFrame.
func AppendClose(dst []byte, role Role, key [4]byte, code CloseCode, reason string) []byte {
	if code == 0 {
		return appendHeader(dst, role, OpClose, true, false, key, 0)
	}
	reason = truncateReason(reason)
	dst = appendHeader(dst, role, OpClose, true, false, key, 2+len(reason))
	start := len(dst)
	dst = binary.BigEndian.AppendUint16(dst, uint16(code))
	dst = append(dst, reason...)
	if role == Client {
		mask(dst[start:], key)
	}
	return dst
}

// truncateReason cuts s to maxCloseReason bytes without splitting a rune,
// so a valid UTF-8 reason stays valid.
func truncateReason(s string) string {
	if len(s) <= maxCloseReason {
		return s
	}
	i := maxCloseReason
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i]
}

// AppendHeader appends the header of a frame whose n payload bytes the
// caller sends after it, from wherever they are: a server can then write a
// large payload with writev instead of copying it behind its header. (A
// client's payload must be masked with key, which AppendFrame does.)
func AppendHeader(dst []byte, role Role, op Opcode, fin, rsv1 bool, key [4]byte, n int) []byte {
	return appendHeader(dst, role, op, fin, rsv1, key, n)
}

// appendHeader appends the frame header (with the mask key for a client)
// for a payload of n bytes.
func appendHeader(dst []byte, role Role, op Opcode, fin, rsv1 bool, key [4]byte, n int) []byte {
	b0 := byte(op) & 0x0f
	if fin {
		b0 |= 0x80
	}
	if rsv1 {
		b0 |= 0x40
	}
	var b1 byte
	if role == Client {
		b1 = 0x80
	}
	switch {
	case n <= 125:
		dst = append(dst, b0, b1|byte(n))
	case n <= 0xffff:
		dst = append(dst, b0, b1|126, byte(n>>8), byte(n))
	default:
		dst = append(dst, b0, b1|127)
		dst = binary.BigEndian.AppendUint64(dst, uint64(n))
	}
	if role == Client {
		dst = append(dst, key[:]...)
	}
	return dst
}

// MaskKey returns a fresh masking key for a Client-role frame. It draws
// from math/rand/v2's runtime source: per-thread ChaCha8 state seeded from
// the operating system, so keys are unpredictable to the peer without a
// lock, a system call or any state in this package.
func MaskKey() [4]byte {
	var k [4]byte
	binary.LittleEndian.PutUint32(k[:], rand.Uint32())
	return k
}

// mask XORs b in place with key, starting at key byte 0 (every frame is
// masked from its first payload byte). It works on 8 bytes at a time: the
// 4-byte key repeated twice is a uint64 whose byte order matches the
// payload's when both are read little-endian.
func mask(b []byte, key [4]byte) {
	k32 := binary.LittleEndian.Uint32(key[:])
	k64 := uint64(k32) | uint64(k32)<<32
	for len(b) >= 32 {
		v := b[:32]
		binary.LittleEndian.PutUint64(v[0:], binary.LittleEndian.Uint64(v[0:])^k64)
		binary.LittleEndian.PutUint64(v[8:], binary.LittleEndian.Uint64(v[8:])^k64)
		binary.LittleEndian.PutUint64(v[16:], binary.LittleEndian.Uint64(v[16:])^k64)
		binary.LittleEndian.PutUint64(v[24:], binary.LittleEndian.Uint64(v[24:])^k64)
		b = b[32:]
	}
	for len(b) >= 8 {
		binary.LittleEndian.PutUint64(b, binary.LittleEndian.Uint64(b)^k64)
		b = b[8:]
	}
	for i := range b {
		b[i] ^= key[i&3]
	}
}
