package interactions

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
)

// Verify returns middleware for a bot that handles interactions with
// another library: it runs an Endpoint's checks on each request — method,
// media type, signature headers, replay window, body limit, Ed25519
// signature, with the same answers (every signature or timestamp failure
// is 401 with one constant body) — answers PING itself, and passes every
// other verified request to next with its body intact.
//
// cfg is read like New's, but PublicKey is required (there is no key fetch
// to shut down) and the listener fields are unused.
func Verify(cfg Config, next http.Handler) (http.Handler, error) {
	if cfg.PublicKey == "" {
		return nil, ErrBadPublicKey
	}
	e, err := New(cfg)
	if err != nil {
		return nil, err
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		bp := e.getBuf()
		body, ok := e.verifyRequest(w, r, bp)
		if !ok {
			e.putBuf(bp)
			return
		}
		var head struct {
			Type int `json:"type"`
		}
		if json.Unmarshal(body, &head) == nil && head.Type == 1 {
			e.putBuf(bp)
			writeReply(w, jsonReply(http.StatusOK, bodyPong))
			return
		}
		own := bytes.Clone(body) // next may keep the body past this call
		e.putBuf(bp)
		r.Body = io.NopCloser(bytes.NewReader(own))
		r.ContentLength = int64(len(own))
		next.ServeHTTP(w, r)
	}), nil
}
