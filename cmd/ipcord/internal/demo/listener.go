package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/ipcord/ipcord/discord"
	"github.com/ipcord/ipcord/interactions"
)

// PingCommand is the name of the demo's slash command.
const PingCommand = "ping"

// ping is the bot's one interaction listener. It is served over both
// transports Discord offers: the HTTP endpoint (Register) and
// INTERACTION_CREATE on the gateway (onInteraction), so a bot can move
// between them without touching its listeners.
func (b *Bot) ping(ctx context.Context, in *discord.Interaction, via string) *interactions.Response {
	st := b.Stats()
	b.mu.Lock()
	b.answers++
	b.mu.Unlock()
	who := "someone"
	if u := in.Author(); u != nil {
		who = u.Username
	}
	return interactions.Reply(fmt.Sprintf("Pong, %s! %d guilds, %d members, %.1f events/s (answered via %s)",
		who, st.Guilds, st.Members, st.EventsPerSecond, via))
}

// Register adds the bot's listeners to an interactions endpoint.
func (b *Bot) Register(ep *interactions.Endpoint) error {
	return ep.Command(discord.CommandChatInput, PingCommand, func(ctx context.Context, ev *interactions.Event) (*interactions.Response, error) {
		b.record(Event{Shard: -1, Name: "INTERACTION (HTTP)"}, "", "/"+ev.CommandName())
		return b.ping(ctx, &ev.Interaction, "HTTP"), nil
	})
}

// onInteraction answers an INTERACTION_CREATE from the gateway through the
// callback route, with the same listener as the HTTP endpoint.
func (b *Bot) onInteraction(ctx context.Context, ev Event) {
	var in discord.Interaction
	if err := json.Unmarshal(ev.Data, &in); err != nil || in.ID == 0 || in.Token == "" {
		b.record(ev, "", "undecodable interaction")
		return
	}
	name := ""
	if d, err := in.CommandData(); err == nil {
		name = d.Name
	}
	b.record(ev, "", "/"+name)
	if in.Type != discord.InteractionApplicationCommand || name != PingCommand {
		return
	}
	r := b.ping(ctx, &in, "gateway")
	actx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	if err := b.cfg.REST.CreateInteractionResponse(actx, in.ID, in.Token,
		&discord.InteractionResponse{Type: r.Type, Data: &r.Data}); err != nil {
		b.logWarn("demo: answering an interaction from the gateway", err)
	}
}
