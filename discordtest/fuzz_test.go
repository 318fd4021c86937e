package discordtest

import (
	"bytes"
	"net/http"
	"testing"
)

// FuzzReadRequest parses arbitrary bodies as the fake server does: JSON or
// multipart, errors allowed, panics not.
func FuzzReadRequest(f *testing.F) {
	f.Add("application/json", []byte(`{"content":"x"}`))
	f.Add("multipart/form-data; boundary=b", []byte("--b\r\nContent-Disposition: form-data; name=\"payload_json\"\r\n\r\n{}\r\n--b\r\nContent-Disposition: form-data; name=\"files[0]\"; filename=\"a\"\r\n\r\nhi\r\n--b--\r\n"))
	f.Add("multipart/form-data", []byte("--"))
	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		hr, err := http.NewRequest("POST", "http://x/api/v10/webhooks/1/t", bytes.NewReader(body))
		if err != nil {
			return
		}
		hr.Header.Set("Content-Type", contentType)
		r, err := readRequest(hr, "/webhooks/1/t", 1<<20)
		if err == nil && r.Multipart() {
			for _, f := range r.Files {
				if f.Field == "" {
					t.Fatal("file without a field name")
				}
			}
		}
	})
}
