package discordtest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Request is one request the Server received.
type Request struct {
	Method string
	Path   string // under the API root, as sent (escaped): "/webhooks/1/tok/messages/@original"
	Query  url.Values
	Header http.Header
	Body   []byte
	// JSON is the JSON body, or part payload_json of a multipart body.
	JSON json.RawMessage
	// Files are the multipart parts named files[n], in order.
	Files    []ReceivedFile
	Received time.Time
}

// ReceivedFile is one file part of a multipart request.
type ReceivedFile struct {
	Field       string // "files[0]"
	Name        string // the part's filename
	ContentType string
	Data        []byte
}

// Decode unmarshals the request's JSON into v.
func (r Request) Decode(v any) error {
	if len(r.JSON) == 0 {
		return errors.New("discordtest: request has no JSON")
	}
	return json.Unmarshal(r.JSON, v)
}

// Multipart reports whether the request was multipart/form-data.
func (r Request) Multipart() bool {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return mt == "multipart/form-data"
}

// errBodyTooLarge marks a body over ServerOptions.MaxBody, which Discord
// answers 413.
var errBodyTooLarge = errors.New("discordtest: body too large")

// errBadMultipart marks a multipart body the fake refuses, as Discord
// would with a 400.
var errBadMultipart = errors.New("discordtest: bad multipart body")

// readRequest reads and parses a request's body.
func readRequest(hr *http.Request, path string, maxBody int64) (Request, error) {
	r := Request{Method: hr.Method, Path: path, Query: hr.URL.Query(), Header: hr.Header.Clone(), Received: time.Now()}
	body, err := io.ReadAll(io.LimitReader(hr.Body, maxBody+1))
	if err != nil {
		return r, err
	}
	if int64(len(body)) > maxBody {
		return r, fmt.Errorf("%w: over %d bytes", errBodyTooLarge, maxBody)
	}
	r.Body = body
	mt, params, _ := mime.ParseMediaType(hr.Header.Get("Content-Type"))
	switch mt {
	case "application/json":
		if !json.Valid(body) {
			return r, errors.New("discordtest: invalid JSON body")
		}
		r.JSON = body
	case "multipart/form-data":
		if err := parseMultipart(&r, body, params["boundary"]); err != nil {
			return r, err
		}
	}
	return r, nil
}

func parseMultipart(r *Request, body []byte, boundary string) error {
	if boundary == "" {
		return fmt.Errorf("%w: no boundary", errBadMultipart)
	}
	mr := multipart.NewReader(bytes.NewReader(body), boundary)
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%w: %w", errBadMultipart, err)
		}
		data, err := io.ReadAll(p)
		if err != nil {
			return fmt.Errorf("%w: %w", errBadMultipart, err)
		}
		name := p.FormName()
		switch {
		case name == "payload_json":
			if !json.Valid(data) {
				return fmt.Errorf("%w: payload_json is not JSON", errBadMultipart)
			}
			r.JSON = data
		case strings.HasPrefix(name, "files["):
			r.Files = append(r.Files, ReceivedFile{Field: name, Name: p.FileName(), ContentType: p.Header.Get("Content-Type"), Data: data})
		default:
			return fmt.Errorf("%w: unexpected part %q", errBadMultipart, name)
		}
	}
}
