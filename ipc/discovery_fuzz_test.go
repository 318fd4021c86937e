package ipc

import (
	"encoding/json"
	"testing"
)

// FuzzParseConnect: whatever a client sends to the discovery port, it is
// a handshake only when it is a JSON object with "connect": true and no
// endpoint, and parsing never panics.
func FuzzParseConnect(f *testing.F) {
	f.Add([]byte(`{"connect": true, "headers": {"Authorization": "s"}}`))
	f.Add([]byte(`{"connect": true, "endpoint": "x"}`))
	f.Add([]byte(`{"endpoint": "who", "secret": "None", "kwargs": {}}`))
	f.Add([]byte(`{"connect": 1}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, ok := parseConnect(data)
		if !ok {
			return
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatalf("accepted %q, which is not a JSON object: %v", data, err)
		}
		if _, has := m["endpoint"]; has {
			t.Fatalf("accepted %q, which names an endpoint", data)
		}
	})
}
