package main

import (
	"context"
	"log"
	"os/signal"
	"sync"
	"syscall"

	"github.com/diamondburned/arikawa/v3/api"
	"github.com/diamondburned/arikawa/v3/discord"
	"github.com/diamondburned/arikawa/v3/gateway"
	"github.com/diamondburned/arikawa/v3/state"
	"github.com/diamondburned/arikawa/v3/utils/json/option"

	"github.com/ipcord/ipcord/e2e/clients/internal/report"
)

func main() {
	base, token := report.Env()
	report.RedirectDiscord(base)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	s := state.New("Bot " + token)
	s.AddIntents(gateway.IntentGuilds | gateway.IntentGuildMembers | gateway.IntentGuildMessages | gateway.IntentMessageContent)
	var mu sync.Mutex
	want := -1
	seen := map[discord.GuildID]bool{}
	s.AddHandler(func(r *gateway.ReadyEvent) {
		mu.Lock()
		defer mu.Unlock()
		want = len(r.Guilds)
	})
	s.AddHandler(func(g *gateway.GuildCreateEvent) {
		mu.Lock()
		defer mu.Unlock()
		seen[g.ID] = true
		if len(seen) != want {
			return
		}
		guilds, _ := s.Cabinet.Guilds()
		var gs []report.Guild
		for _, g := range guilds {
			chans, _ := s.Cabinet.Channels(g.ID)
			mems, _ := s.Cabinet.Members(g.ID)
			gs = append(gs, report.Guild{ID: g.ID.String(), Name: g.Name, Channels: len(chans), Members: len(mems)})
		}
		me, _ := s.Cabinet.Me()
		report.Ready(me.ID.String(), gs)
	})
	s.AddHandler(func(m *gateway.MessageCreateEvent) {
		report.Message(m.ID.String(), m.ChannelID.String(), m.GuildID.String(), m.Author.ID.String(), m.Content)
		if text, ok := report.Say(m.Content); ok && !m.Author.Bot {
			sent, err := s.SendMessage(m.ChannelID, text)
			id := ""
			if sent != nil {
				id = sent.ID.String()
			}
			report.Done("sent", id, err)
		}
	})
	s.AddHandler(func(e *gateway.InteractionCreateEvent) {
		cmd, ok := e.Data.(*discord.CommandInteraction)
		if !ok {
			return
		}
		report.Emit("interaction", map[string]any{"id": e.ID.String(), "name": cmd.Name})
		err := s.RespondInteraction(e.ID, e.Token, api.InteractionResponse{
			Type: api.MessageInteractionWithSource,
			Data: &api.InteractionResponseData{Content: option.NewNullableString("pong")},
		})
		report.Done("replied", e.ID.String(), err)
	})
	if err := s.Open(ctx); err != nil {
		log.Fatal(err)
	}
	<-ctx.Done()
	s.Close()
}
