package interactions

import (
	"context"
	"strings"
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
	// Arrival is when the request arrived (with a monotonic reading).
	Arrival time.Time

	e *Endpoint
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
