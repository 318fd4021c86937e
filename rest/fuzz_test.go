package rest

import (
	"bytes"
	"io"
	"net/http"
	"testing"
	"time"
)

// FuzzReadError decodes arbitrary error answers: the result is always an
// *Error with a sane RetryAfter, never a panic.
func FuzzReadError(f *testing.F) {
	f.Add(429, []byte(`{"message":"You are being rate limited.","retry_after":0.5,"global":true}`), "1.5", "global")
	f.Add(400, []byte(`{"code":50035,"message":"Invalid Form Body","errors":{"content":{"_errors":[]}}}`), "", "")
	f.Add(404, []byte(`not json`), "NaN", "")
	f.Fuzz(func(t *testing.T, status int, body []byte, retryAfter, scope string) {
		if status < 100 || status > 999 {
			return
		}
		resp := &http.Response{StatusCode: status, Header: http.Header{}, Body: io.NopCloser(bytes.NewReader(body))}
		resp.Header.Set("Retry-After", retryAfter)
		resp.Header.Set("X-RateLimit-Scope", scope)
		e := readError(&request{method: "GET", route: "/x"}, resp)
		if e.Status != status || e.RetryAfter < 0 || e.RetryAfter > 24*time.Hour {
			t.Fatalf("%+v", e)
		}
		_ = e.Error()
	})
}

// FuzzRateLimitHeaders feeds arbitrary X-RateLimit headers to the limiter.
func FuzzRateLimitHeaders(f *testing.F) {
	f.Add("abc", "0", "0.25")
	f.Add("", "-1", "Inf")
	f.Fuzz(func(t *testing.T, bucket, remaining, resetAfter string) {
		l := newLimiter()
		b := l.bucket("GET /x", "1")
		h := http.Header{}
		h.Set("X-RateLimit-Bucket", bucket)
		h.Set("X-RateLimit-Remaining", remaining)
		h.Set("X-RateLimit-Reset-After", resetAfter)
		l.update("GET /x", "1", b, h)
		if !b.reset.IsZero() && b.reset.After(time.Now().Add(24*time.Hour+time.Second)) {
			t.Fatalf("reset %v from %q", b.reset, resetAfter)
		}
	})
}
