package ipc

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ipcord/ipcord/internal/wsproto"
)

// Dialect names the wire protocol a Client speaks. The zero value is
// ipcord's native protocol; the others are the Python IPC libraries, so a
// Go process can call a Python bot or dashboard that cannot change.
type Dialect string

// The dialects a Client can speak. A Server speaks all of them on one
// listener and tells them apart by each connection's first message.
const (
	// Native is ipcord.v1: multiplexed, two-way, with deadlines.
	Native Dialect = ""
	// ExtIPC is discord-ext-ipc, nextcord-ext-ipc and discord-ext-ipcx.
	ExtIPC Dialect = "ext-ipc"
	// BetterIPC is better-ipc's standard mode: one persistent connection
	// carrying an ID header.
	BetterIPC Dialect = "better-ipc"
	// BetterIPCMulticast is better-ipc's multicast mode: one connection
	// per request (to the discovery port, by better-ipc's convention).
	BetterIPCMulticast Dialect = "better-ipc-multicast"
	// Zonis is Zonis: the client is a bot that identifies to the
	// dashboard's server, serves routes to it and calls the server's.
	Zonis Dialect = "zonis"
)

// ParseDialect returns the Dialect named s ("native", "ext-ipc",
// "better-ipc", "better-ipc-multicast", "zonis"), for flags and config files.
func ParseDialect(s string) (Dialect, error) {
	switch d := Dialect(s); d {
	case "native":
		return Native, nil
	case Native, ExtIPC, BetterIPC, BetterIPCMulticast, Zonis:
		return d, nil
	}
	return "", fmt.Errorf("%w: %q (want native, ext-ipc, better-ipc, better-ipc-multicast or zonis)", ErrUnknownDialect, s)
}

// dialectMaxMessage is the default message limit on dialect connections:
// aiohttp's max_msg_size, the most a discord-ext-ipc peer accepts.
const dialectMaxMessage = 4 << 20

// ErrUnknownDialect: a dialect name ParseDialect does not know, or a first
// message no dialect recognises.
var ErrUnknownDialect = errors.New("ipc: unknown dialect")

// sniff tells which dialect a connection's first message belongs to, from
// the keys of its top-level object alone: the libraries' first frames
// share no distinguishing key but these.
func sniff(payload []byte) Dialect {
	clean, _, err := pyClean(payload)
	if err != nil {
		return Native
	}
	var keys map[string]json.RawMessage
	if json.Unmarshal(clean, &keys) != nil {
		return Native
	}
	_, endpoint := keys["endpoint"]
	_, secret := keys["secret"]
	_, packetID := keys["packet_id"]
	switch {
	case packetID:
		return Zonis
	case endpoint && secret:
		return BetterIPC
	case endpoint:
		return ExtIPC
	}
	return Native
}

// readDialect is the read loop of a dialect connection: it answers pings,
// echoes a close, and hands each text message to onText (the payload is
// only valid during the call). It returns when the connection ends.
func readDialect(c *conn, onText func([]byte) error) {
	for {
		payload, ok := c.nextText()
		if !ok {
			return
		}
		if err := onText(payload); err != nil {
			if errors.Is(err, errStop) {
				return
			}
			c.closeWith(int(wsproto.CloseInvalidPayload), truncateReason(err.Error()))
			c.fail(err)
			return
		}
	}
}

// startKeepalive pings like a native connection does; only for dialects
// whose clients answer pings sanely (Zonis), never for ext-ipc.
func startKeepalive(c *conn) {
	if c.cfg.pingInterval > 0 {
		c.pingTimer.Store(time.AfterFunc(c.cfg.pingInterval, c.keepalive))
	}
}

// secretMatches compares a secret presented in-band in constant time; an
// empty server secret accepts anything.
func secretMatches(want, got string) bool {
	if want == "" {
		return true
	}
	a, b := sha256.Sum256([]byte(got)), sha256.Sum256([]byte(want))
	return subtle.ConstantTimeCompare(a[:], b[:]) == 1
}

// typeName turns an error code into the CamelCase name a Python client
// expects where it would see an exception type: handler_error → HandlerError.
func typeName(code string) string {
	var b strings.Builder
	up := true
	for i := 0; i < len(code); i++ {
		ch := code[i]
		switch {
		case ch == '_' || ch == '-' || ch == '.' || ch == ':':
			up = true
		case up && ch >= 'a' && ch <= 'z':
			b.WriteByte(ch - 'a' + 'A')
			up = false
		default:
			b.WriteByte(ch)
			up = false
		}
	}
	if b.Len() == 0 {
		return "Error"
	}
	return b.String()
}

// argsOrNull gives a handler "null" for arguments a client left out, as
// a native request without args does.
func argsOrNull(raw json.RawMessage) json.RawMessage {
	if len(raw) == 0 {
		return json.RawMessage("null")
	}
	return raw
}
