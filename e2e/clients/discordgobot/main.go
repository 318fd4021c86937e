package main

import (
	"log"
	"net/http"
	"os"
	"os/signal"
	"syscall"

	"github.com/bwmarrin/discordgo"

	"github.com/ipcord/ipcord/e2e/clients/internal/report"
)

func main() {
	base, token := report.Env()
	s, err := discordgo.New("Bot " + token)
	if err != nil {
		log.Fatal(err)
	}
	report.RedirectDiscord(base)
	s.Client = &http.Client{}
	s.Identify.Intents = discordgo.IntentsGuilds | discordgo.IntentsGuildMembers | discordgo.IntentsGuildMessages | discordgo.IntentMessageContent
	s.StateEnabled = true
	want := -1
	seen := map[string]bool{}
	s.AddHandler(func(s *discordgo.Session, r *discordgo.Ready) {
		want = len(r.Guilds)
	})
	s.AddHandler(func(s *discordgo.Session, g *discordgo.GuildCreate) {
		seen[g.ID] = true
		if len(seen) != want {
			return
		}
		var gs []report.Guild
		for _, g := range s.State.Guilds {
			gs = append(gs, report.Guild{ID: g.ID, Name: g.Name, Channels: len(g.Channels), Members: len(g.Members)})
		}
		report.Ready(s.State.User.ID, gs)
	})
	s.AddHandler(func(s *discordgo.Session, m *discordgo.MessageCreate) {
		report.Message(m.ID, m.ChannelID, m.GuildID, m.Author.ID, m.Content)
		if text, ok := report.Say(m.Content); ok && !m.Author.Bot {
			sent, err := s.ChannelMessageSend(m.ChannelID, text)
			id := ""
			if sent != nil {
				id = sent.ID
			}
			report.Done("sent", id, err)
		}
	})
	s.AddHandler(func(s *discordgo.Session, i *discordgo.InteractionCreate) {
		if i.Type != discordgo.InteractionApplicationCommand {
			return
		}
		report.Emit("interaction", map[string]any{"id": i.ID, "name": i.ApplicationCommandData().Name})
		err := s.InteractionRespond(i.Interaction, &discordgo.InteractionResponse{
			Type: discordgo.InteractionResponseChannelMessageWithSource,
			Data: &discordgo.InteractionResponseData{Content: "pong"},
		})
		report.Done("replied", i.ID, err)
	})
	if err := s.Open(); err != nil {
		log.Fatal(err)
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	<-sig
	s.Close()
}
