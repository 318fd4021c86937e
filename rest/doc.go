// Package rest is a small Discord REST client for the routes ipcord calls:
// interaction callbacks, webhook follow-ups and @original edits, Get
// Gateway Bot, the current application, and Create Message.
//
// It honours Discord's rate limits: per-route buckets learned from the
// X-RateLimit-* headers, the global limit, and 429 answers with their
// retry_after (retried up to Client.MaxRetries times while the context
// allows). Failures are *Error values that errors.Is matches against
// ErrRateLimited, ErrNotFound, ErrUnauthorized and ErrForbidden.
//
// Files travel as multipart/form-data with the JSON in part payload_json
// and the files in parts files[n], whose attachment IDs are filled in.
package rest
