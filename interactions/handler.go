package interactions

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"time"

	"github.com/ipcord/ipcord/discord"
)

// Why an interaction was not run: Deliver returns these, and the HTTP
// endpoint answers 400 and 501 for them.
var (
	ErrBadInteraction     = errors.New("interactions: body is not an interaction")
	ErrUnknownInteraction = errors.New("interactions: unknown interaction type")
	ErrNoListener         = errors.New("interactions: no listener for this interaction")
)

// Result is an HTTP answer from the framework-neutral core (Handle).
type Result struct {
	Status      int
	ContentType string // empty when Body is empty
	Body        []byte // may be shared between answers: do not modify
	// Sent, when not nil, must be called once the answer has been written
	// to Discord: an answer that comes after a defer (and a large-file
	// upload) is delivered only then, so that it cannot overtake the defer.
	Sent func()
}

// The fixed bodies of error answers. Every 401 has the same body, so a
// prober learns nothing about which check failed.
var (
	bodyUnauthorized   = []byte(`{"message":"invalid request signature"}`)
	bodyMethod         = []byte(`{"message":"method not allowed: use POST"}`)
	bodyMediaType      = []byte(`{"message":"content type must be application/json"}`)
	bodyTooLarge       = []byte(`{"message":"request body too large"}`)
	bodyBadJSON        = []byte(`{"message":"body is not a valid interaction"}`)
	bodyUnavailable    = []byte(`{"message":"public key not available yet"}`)
	bodyShuttingDown   = []byte(`{"message":"shutting down"}`)
	bodyNoListener     = []byte(`{"message":"no listener for this interaction"}`)
	bodyUnknownType    = []byte(`{"message":"unknown interaction type"}`)
	bodyForwardFailed  = []byte(`{"message":"forwarding the interaction failed"}`)
	bodyListenerFailed = []byte(`{"message":"listener failed"}`)
	bodyPong           = []byte(`{"type":1}`)
	errMethod          = errors.New("interactions: method not POST")
	errMediaType       = errors.New("interactions: content type not application/json")
	errTooLarge        = errors.New("interactions: body over the limit")
	errBadJSON         = ErrBadInteraction
	errReadBody        = errors.New("interactions: reading the body failed")
)

const contentJSON = "application/json"

func jsonReply(status int, body []byte) Result {
	return Result{Status: status, ContentType: contentJSON, Body: body}
}

// ServeHTTP checks and answers one request as the package documentation
// describes.
func (e *Endpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	arrival := time.Now()
	bp := e.getBuf()
	defer e.putBuf(bp)
	body, ok := e.verifyRequest(w, r, bp)
	if !ok {
		return
	}
	res, after := e.dispatch(r.Context(), arrival, body)
	writeReply(w, res)
	if after != nil {
		// The defer must reach Discord before anything edits @original.
		http.NewResponseController(w).Flush()
		after()
	}
}

// verifyRequest runs every check of the package documentation but the
// last (decoding) on r, answering a failure itself. The body it returns
// lives in *bp.
func (e *Endpoint) verifyRequest(w http.ResponseWriter, r *http.Request, bp *[]byte) ([]byte, bool) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		e.writeFail(w, jsonReply(http.StatusMethodNotAllowed, bodyMethod), errMethod)
		return nil, false
	}
	if ct := r.Header.Get("Content-Type"); ct != contentJSON && !isJSONMediaType(ct) {
		e.writeFail(w, jsonReply(http.StatusUnsupportedMediaType, bodyMediaType), errMediaType)
		return nil, false
	}
	ts := r.Header.Get(HeaderTimestamp)
	v, fail, err := e.precheck(r.Header.Get(HeaderSignature), ts)
	if err != nil {
		e.writeFail(w, fail, err)
		return nil, false
	}
	sig, _, _ := parseHeaders(r.Header.Get(HeaderSignature), ts)

	msg := append((*bp)[:0], ts...)
	msg, err = readLimited(r.Body, msg, e.cfg.MaxBodyBytes)
	*bp = msg[:0]
	switch {
	case errors.Is(err, errTooLarge):
		e.writeFail(w, jsonReply(http.StatusRequestEntityTooLarge, bodyTooLarge), err)
		return nil, false
	case err != nil:
		e.writeFail(w, jsonReply(http.StatusBadRequest, bodyBadJSON), err)
		return nil, false
	}
	if !v.Verify(msg, sig[:]) {
		e.writeFail(w, jsonReply(http.StatusUnauthorized, bodyUnauthorized), ErrBadSignature)
		return nil, false
	}
	return msg[len(ts):], true
}

// Handle is the framework-neutral core: it checks the signature headers'
// values and the body (all the checks of ServeHTTP after the method and
// media type) and returns the answer. Use it to adapt the endpoint to
// something other than net/http; the request's arrival is the call. After
// writing the answer, call its Sent function when it has one.
func (e *Endpoint) Handle(ctx context.Context, signature, timestamp string, body []byte) Result {
	arrival := time.Now()
	v, fail, err := e.precheck(signature, timestamp)
	if err != nil {
		e.logFail(fail, err)
		return fail
	}
	if int64(len(body)) > e.cfg.MaxBodyBytes {
		e.logFail(fail, errTooLarge)
		return jsonReply(http.StatusRequestEntityTooLarge, bodyTooLarge)
	}
	sig, _, _ := parseHeaders(signature, timestamp)
	bp := e.getBuf()
	msg := append(append((*bp)[:0], timestamp...), body...)
	ok := v.Verify(msg, sig[:])
	*bp = msg[:0]
	e.putBuf(bp)
	if !ok {
		fail = jsonReply(http.StatusUnauthorized, bodyUnauthorized)
		e.logFail(fail, ErrBadSignature)
		return fail
	}
	res, after := e.dispatch(ctx, arrival, body)
	res.Sent = after
	return res
}

// precheck runs the header, replay-window and key checks.
func (e *Endpoint) precheck(sigHex, ts string) (Verifier, Result, error) {
	_, unix, err := parseHeaders(sigHex, ts)
	if err == nil {
		err = checkWindow(unix, e.cfg.Now(), e.cfg.ReplayWindow)
	}
	if err != nil {
		return nil, jsonReply(http.StatusUnauthorized, bodyUnauthorized), err
	}
	if e.closed.Load() {
		return nil, jsonReply(http.StatusServiceUnavailable, bodyShuttingDown), ErrClosed
	}
	v := e.currentVerifier()
	if v == nil {
		return nil, jsonReply(http.StatusServiceUnavailable, bodyUnavailable), ErrKeyUnavailable
	}
	return v, Result{}, nil
}

// readLimited appends r's bytes to buf, failing with errTooLarge past
// limit bytes of body without reading much further.
func readLimited(r io.Reader, buf []byte, limit int64) ([]byte, error) {
	start := len(buf)
	for {
		if len(buf) == cap(buf) {
			grow := max(512, cap(buf))
			if room := int64(start) + limit + 1 - int64(cap(buf)); int64(grow) > room {
				grow = int(max(room, 1))
			}
			buf = append(buf, make([]byte, grow)...)[:len(buf)]
		}
		end := min(int64(cap(buf)), int64(start)+limit+1) // append may round capacity up
		n, err := r.Read(buf[len(buf):end])
		buf = buf[:len(buf)+n]
		if int64(len(buf)-start) > limit {
			return buf, errTooLarge
		}
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, errors.Join(errReadBody, err)
		}
	}
}

func (e *Endpoint) getBuf() *[]byte {
	if bp, ok := e.bufs.Get().(*[]byte); ok {
		return bp
	}
	b := make([]byte, 0, 4096)
	return &b
}

func (e *Endpoint) putBuf(bp *[]byte) {
	if cap(*bp) <= 256<<10 { // keep big one-off buffers out of the pool
		e.bufs.Put(bp)
	}
}

func (e *Endpoint) writeFail(w http.ResponseWriter, rep Result, err error) {
	e.logFail(rep, err)
	writeReply(w, rep)
}

func (e *Endpoint) logFail(rep Result, err error) {
	e.log.Debug("interactions: request refused", "status", rep.Status, "err", err)
}

// isJSONMediaType parses a Content-Type other than the exact
// "application/json" (parameters, case, spacing).
func isJSONMediaType(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && mt == contentJSON
}

// headerJSON is shared by every JSON answer; net/http only reads it.
var headerJSON = []string{contentJSON}

func writeReply(w http.ResponseWriter, rep Result) {
	h := w.Header()
	switch rep.ContentType {
	case "":
	case contentJSON:
		h["Content-Type"] = headerJSON
	default:
		h.Set("Content-Type", rep.ContentType)
	}
	// net/http fills in Content-Length itself for a small body written at
	// once; set it for the rest so large answers are not chunked.
	if len(rep.Body) >= 2048 || len(rep.Body) == 0 {
		h.Set("Content-Length", strconv.Itoa(len(rep.Body)))
	}
	w.WriteHeader(rep.Status)
	w.Write(rep.Body)
}

// dispatch decodes a verified body and runs its listener. after, when not
// nil, must be called once the reply has been sent.
func (e *Endpoint) dispatch(ctx context.Context, arrival time.Time, body []byte) (Result, func()) {
	if e.cfg.Forward != nil && !isPing(body) {
		if res, ok := e.forward(ctx, arrival, body); ok {
			return res, nil
		}
	}
	ev, en, res, _ := e.prepare(arrival, body, false)
	if ev == nil {
		return res, nil
	}
	res, after := e.run(ctx, en, ev)
	return res, func() {
		if after != nil {
			after()
		}
		ev.markSent(res.Status < 300)
	}
}

// prepare decodes a verified body into an Event and finds its listener.
// When there is nothing to run — a PING, a bad body, an unknown type, no
// listener — ev is nil, res is the HTTP answer and err says why (nil for a
// PING). callback makes the Event answer through the callback route.
func (e *Endpoint) prepare(arrival time.Time, body []byte, callback bool) (ev *Event, en *entry, res Result, err error) {
	if isPing(body) && json.Valid(body) {
		return nil, nil, jsonReply(http.StatusOK, bodyPong), nil
	}
	ev = &Event{Arrival: arrival, Raw: bytes.Clone(body), e: e, callback: callback}
	in := &ev.Interaction
	if err := json.Unmarshal(ev.Raw, in); err != nil {
		err = errors.Join(ErrBadInteraction, err)
		e.logFail(jsonReply(400, nil), err)
		return nil, nil, jsonReply(http.StatusBadRequest, bodyBadJSON), err
	}
	switch in.Type {
	case discord.InteractionPing:
		return nil, nil, jsonReply(http.StatusOK, bodyPong), nil
	case discord.InteractionApplicationCommand, discord.InteractionAutocomplete:
		ev.Command, err = in.CommandData()
	case discord.InteractionMessageComponent:
		ev.Component, err = in.ComponentData()
	case discord.InteractionModalSubmit:
		ev.Modal, err = in.ModalData()
	default:
		// A type Discord adds later: 501, as hikari answers it.
		e.log.Warn("interactions: unknown interaction type", "type", in.Type)
		return nil, nil, jsonReply(http.StatusNotImplemented, bodyUnknownType), fmt.Errorf("%w: %v", ErrUnknownInteraction, in.Type)
	}
	if err != nil {
		err = errors.Join(ErrBadInteraction, err)
		e.logFail(jsonReply(400, nil), err)
		return nil, nil, jsonReply(http.StatusBadRequest, bodyBadJSON), err
	}
	if en = e.reg.find(ev); en == nil {
		e.log.Warn("interactions: no listener", "type", in.Type, "command", ev.CommandName(), "custom_id", customID(ev))
		return nil, nil, jsonReply(http.StatusNotImplemented, bodyNoListener), ErrNoListener
	}
	return ev, en, Result{}, nil
}

func customID(ev *Event) string {
	switch {
	case ev.Component != nil:
		return ev.Component.CustomID
	case ev.Modal != nil:
		return ev.Modal.CustomID
	}
	return ""
}
