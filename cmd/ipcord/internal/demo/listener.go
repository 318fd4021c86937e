package demo

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/ipcord/ipcord/discord"
	"github.com/ipcord/ipcord/interactions"
)

// PingCommand is the name of the demo's slash command.
const PingCommand = "ping"

// ping is the bot's one interaction listener. Registered once (Register),
// it serves both transports Discord offers: the HTTP endpoint, and
// INTERACTION_CREATE on the gateway, which onInteraction hands to the same
// endpoint's Deliver, so a bot can move between them without touching its
// listeners.
func (b *Bot) ping(_ context.Context, ev *interactions.Event) (*interactions.Response, error) {
	via := "HTTP"
	if ev.Delivered() {
		via = "gateway"
	} else {
		b.record(Event{Shard: -1, Name: "INTERACTION (HTTP)"}, "", "/"+ev.CommandName())
	}
	st := b.Stats()
	b.mu.Lock()
	b.answers++
	b.mu.Unlock()
	who := "someone"
	if u := ev.Interaction.Author(); u != nil {
		who = u.Username
	}
	return interactions.Reply(fmt.Sprintf("Pong, %s! %d guilds, %d members, %.1f events/s (answered via %s)",
		who, st.Guilds, st.Members, st.EventsPerSecond, via)), nil
}

// Register adds the bot's listeners to an interactions endpoint, which
// then also serves the interactions the bot's gateway receives.
func (b *Bot) Register(ep *interactions.Endpoint) error {
	if err := ep.Define(discord.ApplicationCommand{Name: PingCommand, Description: "Pong, with the bot's numbers"}, b.ping); err != nil {
		return err
	}
	b.mu.Lock()
	b.ep = ep
	b.mu.Unlock()
	return nil
}

// onInteraction hands an INTERACTION_CREATE from the gateway to the
// endpoint's listeners, which answer through the callback route.
func (b *Bot) onInteraction(ctx context.Context, ev Event) {
	name := ""
	var in discord.Interaction
	if json.Unmarshal(ev.Data, &in) == nil {
		if d, err := in.CommandData(); err == nil {
			name = "/" + d.Name
		}
	}
	b.record(ev, "", name)
	b.mu.Lock()
	ep := b.ep
	b.mu.Unlock()
	if ep == nil {
		return
	}
	if err := ep.Deliver(ctx, ev.Data, ev.Received, nil); err != nil {
		b.logWarn("demo: serving an interaction from the gateway", err)
	}
}
