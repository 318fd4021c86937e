package interactions

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/ipcord/ipcord/discord"
)

// Event is one interaction as a listener sees it: the interaction, its
// decoded data (the field matching its type is set), and helpers for the
// token's follow-up routes.
type Event struct {
	Interaction discord.Interaction
	// Command is set for commands and autocomplete.
	Command *discord.ApplicationCommandData
	// Component is set for component interactions.
	Component *discord.MessageComponentData
	// Modal is set for modal submits.
	Modal *discord.ModalSubmitData
	// Arrival is when the interaction arrived (with a monotonic reading):
	// the deadlines count from it.
	Arrival time.Time
	// Raw is the interaction's JSON as received, for fields this package
	// does not model or for decoding with another library's types.
	Raw json.RawMessage

	e        *Endpoint
	callback bool // answer through the callback route (gateway, forwarded)
	cb       *discord.InteractionCallbackResponse
	mu       sync.Mutex
	sent     bool // the first response reached Discord (or failed: failed)
	failed   bool
	pending  []func(context.Context)
}

// ErrNotAnswered is reported for work passed to Event.Go when the
// interaction's first response failed, so there is nothing to follow up.
var ErrNotAnswered = errors.New("interactions: first response failed; follow-up work dropped")

// Go runs f once the first response has been sent to Discord — the place
// to send follow-ups (Followup) or further edits (EditOriginal), which
// Discord refuses before it. f gets a context that ends with the token's
// useful life (Config.ListenerTimeout after arrival) or when Shutdown gives
// up; Shutdown waits for f like for listeners. A panic in f is recovered
// and reported.
func (ev *Event) Go(f func(ctx context.Context)) {
	ev.mu.Lock()
	switch {
	case ev.failed:
		ev.mu.Unlock()
		ev.e.report(ev, ErrNotAnswered)
		return
	case !ev.sent:
		ev.pending = append(ev.pending, f)
		ev.mu.Unlock()
		return
	}
	ev.mu.Unlock()
	ev.e.goAfter(ev, f)
}

// markSent records the first response as sent (ok) or failed and starts
// or drops the pending work.
func (ev *Event) markSent(ok bool) {
	ev.mu.Lock()
	ev.sent, ev.failed = true, !ok
	fs := ev.pending
	ev.pending = nil
	ev.mu.Unlock()
	for _, f := range fs {
		if !ok {
			ev.e.report(ev, ErrNotAnswered)
			continue
		}
		ev.e.goAfter(ev, f)
	}
}

// goAfter runs f as tracked work of ev.
func (e *Endpoint) goAfter(ev *Event, f func(context.Context)) {
	if !e.track() {
		e.report(ev, fmt.Errorf("%w: shutting down", ErrNotAnswered))
		return
	}
	go func() {
		defer e.listeners.Done()
		ctx, cancel := context.WithDeadline(e.base, ev.Arrival.Add(e.cfg.ListenerTimeout))
		defer cancel()
		defer func() {
			if p := recover(); p != nil {
				e.report(ev, &PanicError{Value: p, Stack: debug.Stack()})
			}
		}()
		f(ctx)
	}()
}

// CommandName returns the command's full name — command, subcommand group,
// subcommand — joined by spaces, or "" for other interactions.
func (ev *Event) CommandName() string {
	if ev.Command == nil {
		return ""
	}
	if ev.Command.Type != discord.CommandChatInput && ev.Command.Type != 0 {
		return ev.Command.Name
	}
	path, _ := ev.Command.Path()
	return strings.Join(path, " ")
}

// Followup sends a follow-up message (r must be a Reply) and returns it.
// It works for the token's 15 minutes.
func (ev *Event) Followup(ctx context.Context, r *Response) (*discord.Message, error) {
	if err := r.validateMessage(); err != nil {
		return nil, err
	}
	return ev.e.rc.CreateFollowup(ctx, ev.Interaction.ApplicationID, ev.Interaction.Token, &r.Data.MessageParams, r.Files...)
}

// EditOriginal edits the first response (after a defer, this is how its
// message is sent) and returns it.
func (ev *Event) EditOriginal(ctx context.Context, r *Response) (*discord.Message, error) {
	if err := r.validateMessage(); err != nil {
		return nil, err
	}
	return ev.e.rc.EditOriginal(ctx, ev.Interaction.ApplicationID, ev.Interaction.Token, &r.Data.MessageParams, r.Files...)
}

// validateMessage checks a response used as a plain message.
func (r *Response) validateMessage() error {
	if !r.isMessage() {
		return ErrInvalidResponse
	}
	return r.Validate()
}

// Delivered reports whether the interaction came through Deliver (from a
// shard's gateway connection, or forwarded by another process) rather
// than this endpoint's HTTP.
func (ev *Event) Delivered() bool { return ev.callback }

// Callback returns what the first response created (its message, or the
// launched Activity) when it went through the callback route with
// Config.WithResponse; nil otherwise, and before it has been sent (read it
// in work passed to Go).
func (ev *Event) Callback() *discord.InteractionCallbackResponse {
	ev.mu.Lock()
	defer ev.mu.Unlock()
	return ev.cb
}

// Original returns the first response's message (not for a PONG,
// autocomplete or modal answer, which make none).
func (ev *Event) Original(ctx context.Context) (*discord.Message, error) {
	return ev.e.rc.GetOriginal(ctx, ev.Interaction.ApplicationID, ev.Interaction.Token)
}

// DeleteOriginal deletes the first response's message.
func (ev *Event) DeleteOriginal(ctx context.Context) error {
	return ev.e.rc.DeleteOriginal(ctx, ev.Interaction.ApplicationID, ev.Interaction.Token)
}

// EditFollowup edits a follow-up sent with Followup (r must be a Reply or
// an Update) and returns it.
func (ev *Event) EditFollowup(ctx context.Context, messageID discord.Snowflake, r *Response) (*discord.Message, error) {
	if err := r.validateMessage(); err != nil {
		return nil, err
	}
	return ev.e.rc.EditFollowup(ctx, ev.Interaction.ApplicationID, ev.Interaction.Token, messageID, &r.Data.MessageParams, r.Files...)
}

// DeleteFollowup deletes a follow-up sent with Followup.
func (ev *Event) DeleteFollowup(ctx context.Context, messageID discord.Snowflake) error {
	return ev.e.rc.DeleteFollowup(ctx, ev.Interaction.ApplicationID, ev.Interaction.Token, messageID)
}
