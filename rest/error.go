package rest

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// Sentinel errors an *Error matches with errors.Is, by HTTP status.
var (
	ErrBadRequest   = errors.New("rest: bad request")  // 400: Errors says which fields
	ErrRateLimited  = errors.New("rest: rate limited") // 429 after the retries
	ErrNotFound     = errors.New("rest: not found")    // 404 (also an expired interaction token)
	ErrUnauthorized = errors.New("rest: unauthorized") // 401: bad token
	ErrForbidden    = errors.New("rest: forbidden")    // 403: missing permission
	ErrServer       = errors.New("rest: server error") // 5xx
	ErrBadResponse  = errors.New("rest: bad response") // a 2xx body that does not decode
	ErrNoToken      = errors.New("rest: client has no token for a route that needs one")
)

// Error is an answer from Discord with a non-2xx status. Route is the route
// template (tokens are never included), Code and Message come from
// Discord's JSON error body when it has one.
type Error struct {
	Method     string
	Route      string
	Status     int
	Code       int             // Discord's JSON error code, 0 if none
	Message    string          // Discord's message, or the status text
	Errors     json.RawMessage // per-field details of a 400, if any
	RetryAfter time.Duration   // for 429
	Global     bool            // the 429 was the global limit
}

func (e *Error) Error() string {
	s := fmt.Sprintf("rest: %s %s: %d %s", e.Method, e.Route, e.Status, e.Message)
	if e.Code != 0 {
		s += fmt.Sprintf(" (code %d)", e.Code)
	}
	if e.Status == http.StatusTooManyRequests {
		s += fmt.Sprintf(" (retry after %v)", e.RetryAfter)
	}
	return s
}

// Is matches the sentinel for e's status.
func (e *Error) Is(target error) bool {
	switch target {
	case ErrBadRequest:
		return e.Status == http.StatusBadRequest
	case ErrRateLimited:
		return e.Status == http.StatusTooManyRequests
	case ErrNotFound:
		return e.Status == http.StatusNotFound
	case ErrUnauthorized:
		return e.Status == http.StatusUnauthorized
	case ErrForbidden:
		return e.Status == http.StatusForbidden
	case ErrServer:
		return e.Status >= 500
	}
	return false
}

// errorBody is Discord's JSON error shape (also 429's).
type errorBody struct {
	Code       int             `json:"code"`
	Message    string          `json:"message"`
	Errors     json.RawMessage `json:"errors"`
	RetryAfter float64         `json:"retry_after"`
	Global     bool            `json:"global"`
}
