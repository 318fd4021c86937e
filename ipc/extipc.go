package ipc

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
)

// The ext-ipc family's in-band error texts, exactly as discord-ext-ipc
// sends them: its clients (and the code written against them) compare them.
const (
	extIPCTextUnauthorized = "Invalid or no token provided."
	extIPCTextNoEndpoint   = "Invalid or no endpoint given."
	extIPCTextUnencodable  = "IPC route returned values which are not able to be sent over sockets. If you are trying to send a discord.py object, please only send the data you need."
	extIPCTextRaisedPrefix = "IPC route raised error of type "
)

// errExtIPCFrame: a message that is not an ext-ipc request object.
var errExtIPCFrame = errors.New("ipc: ext-ipc: not a request object")

// extIPCRequest is one decoded ext-ipc request:
// {"endpoint": "<route>", "data": {...}, "headers": {"Authorization": "<secret>" | null}}.
type extIPCRequest struct {
	Endpoint      string
	HasEndpoint   bool
	Data          json.RawMessage
	Authorization string
	HasAuth       bool
	// Headers are the other headers the peer sent, strings as they are and
	// other values as JSON: the Authorization header (the secret) is never
	// among them, so a handler or hook cannot log it by accident.
	Headers map[string]string
}

// decodeExtIPC decodes an ext-ipc request. Missing or mistyped fields are
// not errors here (the server answers them in-band); only a message that
// is not a JSON object is.
func decodeExtIPC(payload []byte) (extIPCRequest, error) {
	var r extIPCRequest
	clean, sites, err := pyClean(payload)
	if err != nil {
		return r, errExtIPCFrame
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(clean, &top); err != nil || top == nil {
		return r, errExtIPCFrame
	}
	if raw, ok := top["endpoint"]; ok && json.Unmarshal(raw, &r.Endpoint) == nil {
		r.HasEndpoint = true
	}
	if raw, ok := top["data"]; ok && string(raw) != "null" {
		r.Data = raw
		if sites != nil {
			r.Data = pySpan(payload, []pyStep{{key: "data", index: -1}}) // with Python's NaN and Infinity
		}
	}
	var headers map[string]json.RawMessage
	if raw, ok := top["headers"]; ok && json.Unmarshal(raw, &headers) == nil {
		if a, ok := headers["Authorization"]; ok && json.Unmarshal(a, &r.Authorization) == nil {
			r.HasAuth = true
		}
		for k, v := range headers {
			if k == "Authorization" {
				continue
			}
			var str string
			if json.Unmarshal(v, &str) != nil {
				str = string(v)
			}
			if r.Headers == nil {
				r.Headers = make(map[string]string, len(headers))
			}
			r.Headers[k] = str
		}
	}
	return r, nil
}

// extIPCCodec is the server side of the ext-ipc family.
type extIPCCodec struct{ secret string }

func (x extIPCCodec) decode(payload []byte) (string, json.RawMessage, map[string]string, *Error) {
	r, err := decodeExtIPC(payload)
	if err != nil {
		return "", nil, nil, &Error{Code: CodeUnknownRoute, Message: err.Error()}
	}
	// The secret is checked first, on every message, as the original does.
	if x.secret != "" && (!r.HasAuth || !secretMatches(x.secret, r.Authorization)) {
		return "", nil, nil, &Error{Code: CodeUnauthorized}
	}
	if !r.HasEndpoint {
		return "", nil, nil, &Error{Code: CodeUnknownRoute, Message: "no endpoint"}
	}
	return r.Endpoint, r.Data, r.Headers, nil
}

// result is the route's return value as-is: the family has no envelope.
func (extIPCCodec) result(data []byte) []byte {
	if len(data) == 0 {
		return []byte("null")
	}
	return data
}

func (extIPCCodec) failure(e *Error) []byte { return appendExtIPCError(nil, e) }

// appendExtIPCError maps an error onto the family's in-band objects: 403
// for the secret, 400 for the endpoint, 500 for everything else (the route
// failed: its code, CamelCased, stands for the Python exception type).
func appendExtIPCError(dst []byte, e *Error) []byte {
	code, text := 500, extIPCTextRaisedPrefix+typeName(e.Code)
	switch e.Code {
	case CodeUnauthorized:
		code, text = 403, extIPCTextUnauthorized
	case CodeUnknownRoute:
		code, text = 400, extIPCTextNoEndpoint
	case CodeEncodeError:
		text = extIPCTextUnencodable
	}
	dst = append(dst, `{"error": `...)
	dst = appendJSONString(dst, text)
	dst = append(dst, `, "code": `...)
	dst = strconv.AppendInt(dst, int64(code), 10)
	return append(dst, '}')
}

// appendExtIPCRequest encodes a request as the family's clients send it.
func appendExtIPCRequest(dst []byte, route string, args []byte, secret string) []byte {
	dst = append(dst, `{"endpoint": `...)
	dst = appendJSONString(dst, route)
	dst = append(dst, `, "data": `...)
	if len(args) == 0 || string(args) == "null" {
		dst = append(dst, "{}"...)
	} else {
		dst = append(dst, args...)
	}
	dst = append(dst, `, "headers": {"Authorization": `...)
	if secret == "" {
		dst = append(dst, "null"...)
	} else {
		dst = appendJSONString(dst, secret)
	}
	return append(dst, "}}"...)
}

// decodeExtIPCReply reads a reply as the Go client sees it: an object
// whose only keys are "error" and "code" (400, 403 or 500) is the server's
// error; anything else is the route's value.
func decodeExtIPCReply(payload []byte) (json.RawMessage, error) {
	if !validPython(payload) {
		return nil, fmt.Errorf("%w: reply is not JSON", errExtIPCFrame)
	}
	var top map[string]json.RawMessage
	if json.Unmarshal(payload, &top) != nil || len(top) != 2 {
		return json.RawMessage(payload), nil
	}
	var text string
	var code int
	rawText, ok1 := top["error"]
	rawCode, ok2 := top["code"]
	if !ok1 || !ok2 || json.Unmarshal(rawText, &text) != nil || json.Unmarshal(rawCode, &code) != nil {
		return json.RawMessage(payload), nil
	}
	switch code {
	case 403:
		return nil, &Error{Code: CodeUnauthorized, Message: text}
	case 400:
		return nil, &Error{Code: CodeUnknownRoute, Message: text}
	case 500:
		if text == extIPCTextUnencodable {
			return nil, &Error{Code: CodeEncodeError, Message: text}
		}
		return nil, &Error{Code: CodeHandlerError, Message: text}
	}
	return json.RawMessage(payload), nil
}

func appendJSONString(dst []byte, s string) []byte {
	b, _ := json.Marshal(s) // a string always encodes
	return append(dst, b...)
}

// decodeExtIPCDiscovery reads a discovery listener's answer to the
// connect handshake: the server's port, or a typed refusal.
func decodeExtIPCDiscovery(payload []byte) (int, error) {
	var r struct {
		Port  *int   `json:"port"`
		Code  int    `json:"code"`
		Error string `json:"error"`
	}
	if err := json.Unmarshal(payload, &r); err != nil {
		return 0, fmt.Errorf("%w: discovery answer: %w", errExtIPCFrame, err)
	}
	switch {
	case r.Code == 403:
		return 0, fmt.Errorf("%w: %s", ErrUnauthorized, r.Error)
	case r.Code != 200 || r.Port == nil || *r.Port <= 0 || *r.Port > 65535:
		return 0, fmt.Errorf("%w: discovery answered code %d without a valid port", errExtIPCFrame, r.Code)
	}
	return *r.Port, nil
}
