package ipc

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// The dialect decoders face whatever a Python process (or anyone on the
// port) sends: they must never panic, and what they accept must be
// consistent with what the encoders produce.

func FuzzDecodeExtIPC(f *testing.F) {
	f.Add([]byte(`{"endpoint": "echo", "data": {"a": 1}, "headers": {"Authorization": "s"}}`))
	f.Add([]byte(`{"endpoint": null, "headers": {"Authorization": null}}`))
	f.Add([]byte(`{"headers": 5}`))
	f.Add([]byte(`{"endpoint": "e", "data": {"x": NaN, "y": [Infinity, -Infinity]}, "headers": {"Authorization": "s", "n": NaN}}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`{"message": "Connection success", "port": 8765, "code": 200}`))
	f.Add([]byte(`{"error": "Invalid or no token provided.", "code": 403}`))
	f.Fuzz(func(t *testing.T, p []byte) {
		r, err := decodeExtIPC(p)
		if err != nil {
			if !errors.Is(err, errExtIPCFrame) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if r.Data != nil && !validPython(r.Data) {
			t.Fatalf("invalid data %q", r.Data)
		}
		// A request we encode decodes back to the same thing.
		if r.HasEndpoint {
			back, err := decodeExtIPC(appendExtIPCRequest(nil, r.Endpoint, r.Data, r.Authorization))
			if err != nil || back.Endpoint != r.Endpoint || (r.Authorization != "" && back.Authorization != r.Authorization) {
				t.Fatalf("round trip: %+v → %+v (%v)", r, back, err)
			}
		}
		// Every reply, error or not, is valid JSON a client can decode.
		codec := extIPCCodec{secret: "s"}
		route, args, meta, e := codec.decode(p)
		if e != nil {
			out := codec.failure(e)
			if _, err := decodeExtIPCReply(out); !json.Valid(out) || err == nil {
				t.Fatalf("failure %q does not decode as an error", out)
			}
		} else if route != r.Endpoint || (args != nil && !validPython(args)) {
			t.Fatalf("decode: %q %q", route, args)
		} else if _, leaked := meta["Authorization"]; leaked {
			t.Fatalf("the secret reached the request's metadata: %v", meta)
		}
		decodeExtIPCReply(p)
		if port, err := decodeExtIPCDiscovery(p); err == nil && (port <= 0 || port > 65535) {
			t.Fatalf("discovery gave port %d", port)
		} else if err != nil && !errors.Is(err, errExtIPCFrame) && !errors.Is(err, ErrUnauthorized) {
			t.Fatalf("untyped discovery error %v", err)
		}
	})
}

func FuzzDecodeBetterIPC(f *testing.F) {
	f.Add([]byte(`{"endpoint": "echo", "secret": "s", "kwargs": {"a": 1}}`))
	f.Add([]byte(`{"decoding": "JSON", "code": 200, "response": "{\"a\": 1}"}`))
	f.Add([]byte(`{"decoding": null, "code": 500, "response": null, "error": "x", "error_details": "timeout"}`))
	f.Add([]byte(`{"code": 422}`))
	f.Add([]byte(`{"endpoint": "e", "secret": "s", "kwargs": {"x": NaN}}`))
	f.Add([]byte(`{"decoding": "JSON", "code": 200, "response": "{\"r\": NaN, \"i\": -Infinity}"}`))
	f.Fuzz(func(t *testing.T, p []byte) {
		r, err := decodeBetter(p)
		if err == nil && r.Kwargs != nil && !validPython(r.Kwargs) {
			t.Fatalf("invalid kwargs %q", r.Kwargs)
		}
		if err != nil && !errors.Is(err, errBetterFrame) {
			t.Fatalf("untyped error %v", err)
		}
		data, err := decodeBetterReply(p)
		if err == nil && !validPython(data) {
			t.Fatalf("reply decoded to invalid JSON %q", data)
		}
		// Whatever a route returns survives the envelope.
		if json.Valid(p) {
			var c betterCodec
			back, err := decodeBetterReply(c.result(p))
			if err != nil || !jsonEqual(back, p) {
				t.Fatalf("envelope round trip of %q: %q %v", p, back, err)
			}
		}
	})
}

func FuzzDecodeZonis(f *testing.F) {
	f.Add([]byte(`{"packet_id": "00000000000000000000000000000001", "type": "request", "data": {"identifier": "DEFAULT", "type": "IDENTIFY", "data": {"secret_key": "s", "override_key": null}}}`))
	f.Add([]byte(`{"packet_id": "ab", "type": "response", "data": {"identifier": "SERVER", "type": "FAILURE_RESPONSE", "data": "x is not a valid route name."}}`))
	f.Add([]byte(`{"packet_id": "ab", "type": "request", "data": {"identifier": "D", "type": "CLIENT_REQUEST", "data": {"route": "echo", "arguments": [1]}}}`))
	f.Add([]byte(`{"packet_id": 5}`))
	f.Add([]byte(`{"packet_id": "ab", "type": "request", "data": {"identifier": "D", "type": "CLIENT_REQUEST", "data": {"route": "r", "arguments": {"x": NaN}}}}`))
	f.Add([]byte(`{"packet_id": "ab", "type": "response", "data": {"identifier": "D", "type": "SUCCESS_RESPONSE", "data": [Infinity, NaN]}}`))
	f.Fuzz(func(t *testing.T, p []byte) {
		fr, err := decodeZonis(p)
		if err != nil {
			if !errors.Is(err, errZonisFrame) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if fr.Data.Data != nil && !validPython(fr.Data.Data) {
			t.Fatalf("invalid packet data %q", fr.Data.Data)
		}
		if c, err := decodeZonisCall(fr.Data.Data); err == nil {
			out := appendZonisFrame(nil, fr.PacketID, fr.Type, fr.Data.Identifier, fr.Data.Type, appendZonisCall(nil, c.Route, c.Arguments))
			back, err := decodeZonis(out)
			if err != nil || back.PacketID != fr.PacketID || back.Data.Identifier != fr.Data.Identifier {
				t.Fatalf("round trip %q: %v", out, err)
			}
			if c2, err := decodeZonisCall(back.Data.Data); err != nil || c2.Route != c.Route {
				t.Fatalf("call round trip %q: %v", back.Data.Data, err)
			}
		}
		if e := zonisFailureError(fr.Data.Data); e == nil || e.Code == "" {
			t.Fatalf("failure text %q gave no code", fr.Data.Data)
		}
	})
}

// jsonEqual compares two JSON texts as values. Numbers are compared as
// their literals (json.Number): a float64 cannot hold 1E1000, which is
// still valid JSON that the envelope carries unchanged.
func jsonEqual(a, b []byte) bool {
	var x, y any
	if decodeNumbers(a, &x) != nil || decodeNumbers(b, &y) != nil {
		return false
	}
	xa, _ := json.Marshal(x)
	ya, _ := json.Marshal(y)
	return string(xa) == string(ya)
}

func decodeNumbers(b []byte, v *any) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	return d.Decode(v)
}

// Every error code, the protocol's and a handler's own, lands on a form
// the dialect's real client accepts.
func TestDialectErrorMapping(t *testing.T) {
	codes := []string{CodeUnknownRoute, CodeUnknownClient, CodeBadRequest, CodeHandlerError, CodeEncodeError,
		CodeTimeout, CodeCanceled, CodeOverloaded, CodeUnauthorized, CodeShuttingDown, CodeUnsupported, "guild_not_found"}
	for _, code := range codes {
		e := &Error{Code: code, Message: "secret detail"}

		var better struct {
			Code         int     `json:"code"`
			Decoding     *string `json:"decoding"`
			Response     any     `json:"response"`
			Error        string  `json:"error"`
			ErrorDetails string  `json:"error_details"`
		}
		out := betterCodec{}.failure(e)
		if err := json.Unmarshal(out, &better); err != nil {
			t.Fatalf("%s: better-ipc failure %q: %v", code, out, err)
		}
		want := map[string]int{CodeUnauthorized: 403, CodeUnknownRoute: 404}[code]
		if want == 0 {
			want = 500
		}
		if better.Code != want || better.Decoding != nil || better.Response != nil || better.Error == "" {
			t.Errorf("%s: better-ipc %s", code, out)
		}
		if strings.Contains(string(out), "secret detail") {
			t.Errorf("%s: better-ipc leaks the message: %s", code, out)
		}

		var ext map[string]any
		out = extIPCCodec{}.failure(e)
		if err := json.Unmarshal(out, &ext); err != nil || len(ext) != 2 {
			t.Fatalf("%s: ext-ipc failure %q: %v", code, out, err)
		}
		want = map[string]int{CodeUnauthorized: 403, CodeUnknownRoute: 400}[code]
		if want == 0 {
			want = 500
		}
		if ext["code"] != float64(want) || strings.Contains(string(out), "secret detail") {
			t.Errorf("%s: ext-ipc %s", code, out)
		}
		// What our own client makes of it.
		if _, err := decodeExtIPCReply(out); err == nil {
			t.Errorf("%s: ext-ipc error object decoded as a value", code)
		}
	}
	if got := typeName("guild_not_found"); got != "GuildNotFound" {
		t.Errorf("typeName = %q", got)
	}
}
