package interactions

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"runtime/debug"
	"sync"
	"time"

	"github.com/ipcord/ipcord/discord"
	"github.com/ipcord/ipcord/rest"
)

// Listener failures, reported to Config.OnError and the log.
var (
	// ErrTooLate: a modal or autocomplete answer came after the endpoint
	// had deferred (or, for autocomplete, answered no choices).
	ErrTooLate = errors.New("interactions: answer came after the deadline and cannot be delivered")
	// ErrNoResponse: a listener returned neither a response nor an error.
	ErrNoResponse = errors.New("interactions: listener returned no response")
	// ErrPanic is matched by *PanicError.
	ErrPanic = errors.New("interactions: listener panicked")
)

// PanicError is a listener's panic, recovered; the endpoint keeps serving.
type PanicError struct {
	Value any
	Stack []byte
}

func (p *PanicError) Error() string {
	return fmt.Sprintf("interactions: listener panicked: %v", p.Value)
}

// Unwrap makes errors.Is(err, ErrPanic) true.
func (p *PanicError) Unwrap() error { return ErrPanic }

func safeCall(ctx context.Context, l Listener, ev *Event) (r *Response, err error) {
	defer func() {
		if p := recover(); p != nil {
			r, err = nil, &PanicError{Value: p, Stack: debug.Stack()}
		}
	}()
	return l(ctx, ev)
}

type outcome struct {
	r   *Response
	err error
}

// call is one listener run; mu decides who owns its answer: the HTTP side
// while the listener is inside DeferAfter, the listener's goroutine after
// the endpoint deferred.
type call struct {
	ev       *Event
	en       *entry
	mu       sync.Mutex
	answered bool // the HTTP side takes the outcome
	deferred discord.InteractionResponseType
	result   chan outcome // buffered; written once when answered
	replied  chan bool    // true once the defer has been sent, false if it failed
}

// run starts the listener and returns the HTTP answer: the listener's own
// if it comes within DeferAfter, else a defer.
func (e *Endpoint) run(reqCtx context.Context, en *entry, ev *Event) (Result, func()) {
	ctx, cancel := context.WithDeadline(context.WithoutCancel(reqCtx), ev.Arrival.Add(e.cfg.ListenerTimeout))
	stop := context.AfterFunc(e.base, cancel)
	c := &call{ev: ev, en: en, result: make(chan outcome, 1), replied: make(chan bool, 1)}
	if !e.track() {
		stop()
		cancel()
		return jsonReply(http.StatusServiceUnavailable, bodyShuttingDown), nil
	}
	go func() {
		defer e.listeners.Done()
		defer cancel()
		defer stop()
		r, err := safeCall(ctx, en.l, ev)
		c.mu.Lock()
		if c.deferred == 0 {
			c.answered = true
			c.mu.Unlock()
			c.result <- outcome{r, err}
			return
		}
		c.mu.Unlock()
		select {
		case ok := <-c.replied:
			if !ok {
				e.lateAnswer(ev, fmt.Errorf("%w: the defer could not be sent", ErrTooLate))
				return
			}
		case <-ctx.Done():
			return
		}
		e.lateAnswer(ev, e.deliverLate(ctx, c, r, err))
	}()

	timer := time.NewTimer(time.Until(ev.Arrival.Add(e.cfg.DeferAfter)))
	defer timer.Stop()
	select {
	case o := <-c.result:
		return e.answer(c, o)
	case <-timer.C:
	}
	c.mu.Lock()
	if c.answered {
		c.mu.Unlock()
		return e.answer(c, <-c.result)
	}
	d := e.deferFor(c)
	c.deferred = d.Type
	c.mu.Unlock()
	if e.cfg.OnDefer != nil {
		e.cfg.OnDefer(ev)
	}
	res := e.initial(ev, d)
	if res.Status >= 300 {
		c.replied <- false // the listener's answer has nowhere to go
		return res, nil
	}
	var once sync.Once
	return res, func() { once.Do(func() { c.replied <- true }) }
}

// deferFor returns the automatic defer for c's interaction type.
func (e *Endpoint) deferFor(c *call) *Response {
	switch c.ev.Interaction.Type {
	case discord.InteractionAutocomplete:
		return Choices()
	case discord.InteractionMessageComponent:
		return DeferUpdate()
	}
	return DeferReply(c.en.ephemeral)
}

// answer turns a listener's in-time outcome into the HTTP answer.
func (e *Endpoint) answer(c *call, o outcome) (Result, func()) {
	ev := c.ev
	err := o.err
	if err == nil && o.r == nil {
		err = ErrNoResponse
	}
	if err == nil && !allowed(ev.Interaction.Type, o.r.Type) {
		err = fmt.Errorf("%w: type %d for a %v", ErrInvalidResponse, o.r.Type, ev.Interaction.Type)
	}
	if err == nil {
		err = o.r.Validate()
	}
	if err != nil {
		e.report(ev, err)
		return jsonReply(http.StatusInternalServerError, bodyListenerFailed), nil
	}
	r := o.r
	if r.isMessage() && rest.FilesSize(r.Files) > e.cfg.InlineFileLimit {
		// Inline multipart replies fail above ~100 KB: defer, then upload
		// by editing @original once the defer has been sent.
		d := DeferUpdate()
		if r.Type == discord.ResponseMessage {
			d = DeferReply(r.Data.Flags&discord.MessageFlagEphemeral != 0)
		}
		res := e.initial(ev, d)
		if res.Status >= 300 {
			return res, nil
		}
		return res, func() {
			if !e.track() {
				e.report(ev, fmt.Errorf("%w: shutting down before the large files were uploaded", ErrTooLate))
				return
			}
			go func() {
				defer e.listeners.Done()
				ctx, cancel := context.WithDeadline(e.base, ev.Arrival.Add(e.cfg.ListenerTimeout))
				defer cancel()
				if _, err := ev.EditOriginal(ctx, r); err != nil {
					e.report(ev, fmt.Errorf("interactions: uploading large files: %w", err))
				}
			}()
		}
	}
	return e.initial(ev, r), nil
}

// initial sends a first response: in the HTTP body, or through the
// callback route in 202 mode and for interactions that did not come over
// HTTP (Deliver).
func (e *Endpoint) initial(ev *Event, r *Response) Result {
	if e.cfg.Respond202 || ev.callback {
		ctx, cancel := context.WithDeadline(e.base, ev.Arrival.Add(3*time.Second))
		defer cancel()
		var err error
		if e.cfg.WithResponse {
			var cb *discord.InteractionCallbackResponse
			cb, err = e.rc.CreateInteractionResponseWithResponse(ctx, ev.Interaction.ID, ev.Interaction.Token, r.payload(), r.Files...)
			ev.mu.Lock()
			ev.cb = cb
			ev.mu.Unlock()
		} else {
			err = e.rc.CreateInteractionResponse(ctx, ev.Interaction.ID, ev.Interaction.Token, r.payload(), r.Files...)
		}
		if err != nil {
			e.report(ev, fmt.Errorf("interactions: callback: %w", err))
			return jsonReply(http.StatusInternalServerError, bodyListenerFailed)
		}
		return Result{Status: http.StatusAccepted}
	}
	if len(r.Files) > 0 {
		ct, body, err := rest.EncodeMultipart(r.payload(), r.Files)
		if err != nil {
			e.report(ev, err)
			return jsonReply(http.StatusInternalServerError, bodyListenerFailed)
		}
		return Result{Status: http.StatusOK, ContentType: ct, Body: body}
	}
	body, err := json.Marshal(r.payload())
	if err != nil {
		e.report(ev, fmt.Errorf("interactions: encoding the response: %w", err))
		return jsonReply(http.StatusInternalServerError, bodyListenerFailed)
	}
	return jsonReply(http.StatusOK, body)
}

// deliverLate delivers an answer that came after the endpoint deferred,
// and returns why it could not.
func (e *Endpoint) deliverLate(ctx context.Context, c *call, r *Response, err error) error {
	if err == nil && r == nil {
		err = ErrNoResponse
	}
	if err != nil {
		return err
	}
	if c.deferred == discord.ResponseAutocompleteResult || firstOnly(r.Type) {
		return fmt.Errorf("%w: response type %d after a type %d", ErrTooLate, r.Type, c.deferred)
	}
	if err := r.Validate(); err != nil {
		return err
	}
	switch {
	case r.Type == c.deferred: // the listener chose the same defer: nothing left to do
	case r.Type == discord.ResponseMessage && c.deferred == discord.ResponseDeferredMessage,
		r.Type == discord.ResponseUpdateMessage && c.deferred == discord.ResponseDeferredUpdate:
		_, err = c.ev.EditOriginal(ctx, r)
	case r.Type == discord.ResponseMessage && c.deferred == discord.ResponseDeferredUpdate:
		_, err = c.ev.Followup(ctx, r)
	default:
		err = fmt.Errorf("%w: response type %d after a type %d defer", ErrInvalidResponse, r.Type, c.deferred)
	}
	if err != nil {
		return fmt.Errorf("interactions: delivering a late answer: %w", err)
	}
	return nil
}

// lateAnswer reports how a late answer ended: to the log and OnError when
// it failed, and to OnLateAnswer.
func (e *Endpoint) lateAnswer(ev *Event, err error) {
	if err != nil {
		e.report(ev, err)
	}
	if e.cfg.OnLateAnswer != nil {
		e.cfg.OnLateAnswer(ev, err)
	}
}

// report logs a listener or delivery failure and passes it to OnError.
func (e *Endpoint) report(ev *Event, err error) {
	attrs := []any{"err", err, "type", ev.Interaction.Type, "interaction", ev.Interaction.ID}
	if name := ev.CommandName(); name != "" {
		attrs = append(attrs, "command", name)
	}
	if id := customID(ev); id != "" {
		attrs = append(attrs, "custom_id", id)
	}
	var pe *PanicError
	if errors.As(err, &pe) {
		attrs = append(attrs, "stack", string(pe.Stack))
	}
	e.log.Error("interactions: listener failed", attrs...)
	if e.cfg.OnError != nil {
		e.cfg.OnError(ev, err)
	}
}

// firstOnly reports whether a response type can only be the first
// response, so it cannot follow an automatic defer.
func firstOnly(t discord.InteractionResponseType) bool {
	switch t {
	case discord.ResponseAutocompleteResult, discord.ResponseModal, discord.ResponseLaunchActivity, discord.ResponsePremiumRequired:
		return true
	}
	return false
}
