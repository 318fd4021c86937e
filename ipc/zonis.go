package ipc

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/ipcord/ipcord/ipc/internal/transport"
	"strings"
)

// Zonis packet types (the inner packet's "type").
const (
	zonisIdentify      = "IDENTIFY"
	zonisRequest       = "REQUEST"        // server → client call
	zonisClientRequest = "CLIENT_REQUEST" // client → server call
	zonisSuccess       = "SUCCESS_RESPONSE"
	zonisFailure       = "FAILURE_RESPONSE"
	zonisServerID      = "SERVER" // the identifier on the server's replies
)

// Zonis close codes.
const (
	closeZonisSecret    = 4100
	closeZonisIdentify  = 4101
	closeZonisDuplicate = 4102
)

// errZonisFrame: a message that is not a Zonis frame.
var errZonisFrame = errors.New("ipc: zonis: malformed frame")

// zonisFrame is every Zonis message:
// {"packet_id": "<32 hex>", "type": "request"|"response", "data": <packet>}.
type zonisFrame struct {
	PacketID string      `json:"packet_id"`
	Type     string      `json:"type"`
	Data     zonisPacket `json:"data"`
}

// zonisPacket is {"identifier": "<id>", "type": "<packet type>", "data": ...}.
type zonisPacket struct {
	Identifier string          `json:"identifier"`
	Type       string          `json:"type"`
	Data       json.RawMessage `json:"data"`
}

// zonisCall is a REQUEST/CLIENT_REQUEST's data.
type zonisCall struct {
	Route     string          `json:"route"`
	Arguments json.RawMessage `json:"arguments"`
}

// zonisIdentifyData is an IDENTIFY's data.
type zonisIdentifyData struct {
	SecretKey   string  `json:"secret_key"`
	OverrideKey *string `json:"override_key"`
}

// decodeZonis decodes one frame; it checks the envelope only, so a frame
// with an unexpected packet type is still answered by packet_id.
func decodeZonis(payload []byte) (zonisFrame, error) {
	var f zonisFrame
	clean, sites, err := pyClean(payload)
	if err != nil {
		return f, fmt.Errorf("%w: %w", errZonisFrame, err)
	}
	if err := json.Unmarshal(clean, &f); err != nil {
		return f, fmt.Errorf("%w: %w", errZonisFrame, err)
	}
	if sites != nil && f.Data.Data != nil {
		// The packet's data (a call's arguments, a route's result) keeps
		// Python's NaN and Infinity; only the envelope needed them gone.
		f.Data.Data = pySpan(payload, []pyStep{{key: "data", index: -1}, {key: "data", index: -1}})
	}
	if f.PacketID == "" || len(f.PacketID) > 128 {
		return f, fmt.Errorf("%w: missing or oversized packet_id", errZonisFrame)
	}
	if f.Type != "request" && f.Type != "response" {
		return f, fmt.Errorf("%w: type %q", errZonisFrame, f.Type)
	}
	return f, nil
}

// decodeZonisCall decodes a request packet's data.
func decodeZonisCall(data json.RawMessage) (zonisCall, error) {
	var c zonisCall
	clean, sites, err := pyClean(data)
	if err != nil {
		return c, fmt.Errorf("%w: request data: %w", errZonisFrame, err)
	}
	if err := json.Unmarshal(clean, &c); err != nil {
		return c, fmt.Errorf("%w: request data: %w", errZonisFrame, err)
	}
	if sites != nil && c.Arguments != nil {
		c.Arguments = pySpan(data, []pyStep{{key: "arguments", index: -1}})
	}
	if c.Route == "" {
		return c, fmt.Errorf("%w: request without a route", errZonisFrame)
	}
	return c, nil
}

// appendZonisFrame encodes a frame whose packet data is raw JSON.
func appendZonisFrame(dst []byte, packetID, kind, identifier, ptype string, data []byte) []byte {
	dst = append(dst, `{"packet_id": `...)
	dst = appendJSONString(dst, packetID)
	dst = append(dst, `, "type": `...)
	dst = appendJSONString(dst, kind)
	dst = append(dst, `, "data": {"identifier": `...)
	dst = appendJSONString(dst, identifier)
	dst = append(dst, `, "type": `...)
	dst = appendJSONString(dst, ptype)
	dst = append(dst, `, "data": `...)
	if len(data) == 0 {
		dst = append(dst, "null"...)
	} else {
		dst = append(dst, data...)
	}
	return append(dst, "}}"...)
}

// appendZonisCall encodes route and args as request data.
func appendZonisCall(dst []byte, route string, args []byte) []byte {
	dst = append(dst, `{"route": `...)
	dst = appendJSONString(dst, route)
	dst = append(dst, `, "arguments": `...)
	if len(args) == 0 || string(args) == "null" {
		dst = append(dst, "{}"...)
	} else {
		dst = append(dst, args...)
	}
	return append(dst, '}')
}

// zonisFailureText is FAILURE_RESPONSE's data (always a string): Zonis's own
// text for an unknown route, "<code>: <message>" otherwise, so a Go peer
// gets the code back and a Python one a readable line.
func zonisFailureText(route string, e *Error) string {
	if e.Code == CodeUnknownRoute {
		return route + " is not a valid route name."
	}
	if e.Message == "" {
		return e.Code
	}
	return e.Code + ": " + e.Message
}

// zonisFailureError turns FAILURE_RESPONSE data back into an *Error.
func zonisFailureError(data json.RawMessage) *Error {
	var text string
	if json.Unmarshal(data, &text) != nil {
		text = string(data)
	}
	if strings.HasSuffix(text, " is not a valid route name.") {
		return &Error{Code: CodeUnknownRoute, Message: text}
	}
	if code, msg, ok := strings.Cut(text, ": "); ok && isCodeLike(code) {
		return &Error{Code: code, Message: msg}
	}
	if isKnownCode(text) {
		return &Error{Code: text}
	}
	return &Error{Code: CodeHandlerError, Message: text}
}

// newPacketID returns 32 hex digits, as Zonis makes them.
func newPacketID() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// isCodeLike reports whether s looks like an ipcord error code (lower case
// route-name characters), not the start of a Python traceback.
func isCodeLike(s string) bool {
	return transport.ValidName(s) && strings.ToLower(s) == s
}
