package interactions

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/ipcord/ipcord/discord"
	"github.com/ipcord/ipcord/ipc"
)

// DiscordDeadline is how long after it is sent Discord waits for the first
// response to an interaction.
const DiscordDeadline = 3 * time.Second

// ForwardRoute is the ipc route ForwardHandler is served under and
// ForwardTo calls.
const ForwardRoute = "interactions.deliver"

// Forwarded is an interaction on its way from the endpoint that received
// and verified it to the process that serves it, with what is left of
// Discord's deadline.
type Forwarded struct {
	// Interaction is the body as Discord sent it.
	Interaction json.RawMessage `json:"interaction"`
	// RemainingUS is the time left, in microseconds, before Discord's
	// 3-second deadline when the interaction was sent on.
	RemainingUS int64 `json:"remaining_us"`
}

// ErrForward is reported (wrapped) when an interaction could not be
// forwarded; the endpoint answers 503.
var ErrForward = errors.New("interactions: forwarding failed")

// Forwarder, as Config.Forward, may send a verified interaction to the
// process that serves it. handled false serves it here; handled true with
// a nil error means the other process answered through the callback
// route, and the endpoint answers Discord's request 202.
type Forwarder func(ctx context.Context, in *discord.Interaction, f *Forwarded) (handled bool, err error)

// ForwardTo returns a Forwarder that sends each interaction to the ipc
// Caller pick chooses for it — with natsipc, the Cluster that owns the
// guild's shard — where ForwardHandler serves it; pick returns nil to keep
// an interaction here (DMs, say). The call's deadline is Discord's.
func ForwardTo(pick func(in *discord.Interaction) ipc.Caller) Forwarder {
	return func(ctx context.Context, in *discord.Interaction, f *Forwarded) (bool, error) {
		c := pick(in)
		if c == nil {
			return false, nil
		}
		ctx, cancel := context.WithTimeout(ctx, time.Duration(f.RemainingUS)*time.Microsecond)
		defer cancel()
		if err := c.Call(ctx, ForwardRoute, f, nil); err != nil {
			return true, fmt.Errorf("%w: %w", ErrForward, err)
		}
		return true, nil
	}
}

// ForwardHandler serves forwarded interactions (under ForwardRoute) with
// e's listeners: Deliver with the arrival rebuilt from the remaining
// deadline, so the automatic defer comes as early as it would have at the
// receiving endpoint. It answers once the first response has reached
// Discord through the callback route.
func ForwardHandler(e *Endpoint) ipc.Handler {
	return ipc.Func(func(ctx context.Context, f Forwarded) (struct{}, error) {
		remaining := time.Duration(f.RemainingUS) * time.Microsecond
		if remaining <= 0 || remaining > DiscordDeadline {
			return struct{}{}, &ipc.Error{Code: "bad_request", Message: "remaining deadline out of range"}
		}
		arrival := time.Now().Add(remaining - DiscordDeadline)
		done := make(chan error, 1)
		if err := e.Deliver(ctx, f.Interaction, arrival, func(err error) { done <- err }); err != nil {
			return struct{}{}, err
		}
		select {
		case err := <-done:
			return struct{}{}, err
		case <-ctx.Done():
			return struct{}{}, ctx.Err()
		}
	})
}

// forward hands a verified interaction to Config.Forward. ok reports that
// it was forwarded (res is then the answer to Discord's request).
func (e *Endpoint) forward(ctx context.Context, arrival time.Time, body []byte) (res Result, ok bool) {
	var in discord.Interaction
	if json.Unmarshal(body, &in) != nil || in.Type == discord.InteractionPing {
		return Result{}, false // bad bodies and PINGs are answered here
	}
	f := &Forwarded{Interaction: body, RemainingUS: time.Until(arrival.Add(DiscordDeadline)).Microseconds()}
	handled, err := e.cfg.Forward(ctx, &in, f)
	if !handled {
		return Result{}, false
	}
	if err != nil {
		e.report(&Event{Interaction: in, Arrival: arrival, e: e}, err)
		return jsonReply(503, bodyForwardFailed), true
	}
	return Result{Status: 202}, true
}
