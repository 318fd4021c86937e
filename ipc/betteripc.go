package ipc

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
)

// better-ipc's error texts, as its server sends them.
const (
	betterTextUnauthorized       = "Unauthorized"
	betterDetailsUnauthorized    = "You're trying to connect with an invalid secret key!"
	betterTextUnknownEndpoint    = "Unknown endpoint!"
	betterDetailsUnknownEndpoint = "The route that you're trying to call doesn't exist!"
	betterTextFailed             = "Unexpected error occurred while calling the route!"
	betterNoSecret               = "None" // what a client without a secret sends
)

// errBetterFrame: a message that is not a better-ipc request or reply.
var errBetterFrame = errors.New("ipc: better-ipc: malformed message")

// betterRequest is one decoded better-ipc request:
// {"endpoint": "<route>", "secret": "<secret>", "kwargs": {...}}.
type betterRequest struct {
	Endpoint    string
	HasEndpoint bool
	Secret      string
	Kwargs      json.RawMessage
}

// decodeBetter decodes a better-ipc request; only a message that is not a
// JSON object is an error.
func decodeBetter(payload []byte) (betterRequest, error) {
	var r betterRequest
	clean, sites, err := pyClean(payload)
	if err != nil {
		return r, errBetterFrame
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(clean, &top); err != nil || top == nil {
		return r, errBetterFrame
	}
	if raw, ok := top["endpoint"]; ok && json.Unmarshal(raw, &r.Endpoint) == nil {
		r.HasEndpoint = true
	}
	if raw, ok := top["secret"]; ok {
		json.Unmarshal(raw, &r.Secret) // a non-string secret matches nothing
	}
	if raw, ok := top["kwargs"]; ok && string(raw) != "null" {
		r.Kwargs = raw
		if sites != nil {
			r.Kwargs = pySpan(payload, []pyStep{{key: "kwargs", index: -1}}) // with Python's NaN and Infinity
		}
	}
	return r, nil
}

// betterCodec is better-ipc's server side.
type betterCodec struct{ secret string }

func (b betterCodec) decode(payload []byte) (string, json.RawMessage, map[string]string, *Error) {
	r, err := decodeBetter(payload)
	if err != nil {
		return "", nil, nil, &Error{Code: CodeBadRequest, Message: err.Error()}
	}
	if b.secret != "" && !secretMatches(b.secret, r.Secret) {
		return "", nil, nil, &Error{Code: CodeUnauthorized}
	}
	if !r.HasEndpoint {
		return "", nil, nil, &Error{Code: CodeUnknownRoute, Message: "no endpoint"}
	}
	return r.Endpoint, r.Kwargs, nil, nil
}

// result wraps a result in better-ipc's envelope: a string travels as
// itself (decoding null), anything else JSON-encoded into the string
// "response" with decoding "JSON" — the client json.loads it back.
func (betterCodec) result(data []byte) []byte {
	if len(data) == 0 {
		data = []byte("null")
	}
	if data[0] == '"' {
		dst := append([]byte(nil), `{"decoding": null, "code": 200, "response": `...)
		dst = append(dst, data...)
		return append(dst, '}')
	}
	dst := append([]byte(nil), `{"decoding": "JSON", "code": 200, "response": `...)
	dst = appendJSONString(dst, string(data))
	return append(dst, '}')
}

// failure maps an error onto the only codes the real client accepts: 403,
// 404 and 500 (everything else, timeouts and overload included). The
// handler's own message stays on this side; error_details carries the
// ipcord code, which tells a Go client what happened without leaking text.
func (betterCodec) failure(e *Error) []byte {
	code, text, details := 500, betterTextFailed, e.Code
	switch e.Code {
	case CodeUnauthorized:
		code, text, details = 403, betterTextUnauthorized, betterDetailsUnauthorized
	case CodeUnknownRoute:
		code, text, details = 404, betterTextUnknownEndpoint, betterDetailsUnknownEndpoint
	}
	dst := append([]byte(nil), `{"decoding": null, "code": `...)
	dst = strconv.AppendInt(dst, int64(code), 10)
	dst = append(dst, `, "response": null, "error": `...)
	dst = appendJSONString(dst, text)
	dst = append(dst, `, "error_details": `...)
	dst = appendJSONString(dst, details)
	return append(dst, '}')
}

// appendBetterRequest encodes a request as better-ipc's client sends it.
func appendBetterRequest(dst []byte, route string, args []byte, secret string) []byte {
	if secret == "" {
		secret = betterNoSecret
	}
	dst = append(dst, `{"endpoint": `...)
	dst = appendJSONString(dst, route)
	dst = append(dst, `, "secret": `...)
	dst = appendJSONString(dst, secret)
	dst = append(dst, `, "kwargs": `...)
	if len(args) == 0 || string(args) == "null" {
		dst = append(dst, "{}"...)
	} else {
		dst = append(dst, args...)
	}
	return append(dst, '}')
}

// betterReply is the envelope of every better-ipc reply.
type betterReply struct {
	Decoding     *string         `json:"decoding"`
	Code         int             `json:"code"`
	Response     json.RawMessage `json:"response"`
	Error        string          `json:"error"`
	ErrorDetails string          `json:"error_details"`
}

// decodeBetterReply turns a reply into the route's JSON value or a typed
// error.
func decodeBetterReply(payload []byte) (json.RawMessage, error) {
	var r betterReply
	if err := json.Unmarshal(payload, &r); err != nil {
		return nil, fmt.Errorf("%w: %w", errBetterFrame, err)
	}
	switch r.Code {
	case 200:
	case 403:
		return nil, &Error{Code: CodeUnauthorized, Message: r.Error + ": " + r.ErrorDetails}
	case 404:
		return nil, &Error{Code: CodeUnknownRoute, Message: r.Error + ": " + r.ErrorDetails}
	case 500:
		code := CodeHandlerError
		if isKnownCode(r.ErrorDetails) {
			code = r.ErrorDetails
		}
		return nil, &Error{Code: code, Message: r.Error}
	default:
		return nil, fmt.Errorf("%w: reply code %d", errBetterFrame, r.Code)
	}
	if r.Decoding == nil || *r.Decoding != "JSON" {
		if len(r.Response) == 0 {
			return json.RawMessage("null"), nil
		}
		return r.Response, nil // a string (or null) travels as itself
	}
	var inner string
	if err := json.Unmarshal(r.Response, &inner); err != nil || !validPython([]byte(inner)) {
		return nil, fmt.Errorf("%w: response is not JSON-encoded", errBetterFrame)
	}
	return json.RawMessage(inner), nil
}

func isKnownCode(code string) bool {
	switch code {
	case CodeUnknownRoute, CodeUnknownClient, CodeBadRequest, CodeHandlerError, CodeEncodeError,
		CodeTimeout, CodeCanceled, CodeOverloaded, CodeUnauthorized, CodeShuttingDown, CodeUnsupported, CodeTooLarge:
		return true
	}
	return false
}
