package main

import (
	"context"
	"log"
	"os/signal"
	"syscall"

	"github.com/disgoorg/disgo"
	"github.com/disgoorg/disgo/bot"
	"github.com/disgoorg/disgo/cache"
	"github.com/disgoorg/disgo/discord"
	"github.com/disgoorg/disgo/events"
	"github.com/disgoorg/disgo/gateway"
	"github.com/disgoorg/disgo/rest"

	"github.com/ipcord/ipcord/e2e/clients/internal/report"
)

func main() {
	base, token := report.Env()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	client, err := disgo.New(token,
		bot.WithRestClientConfigOpts(rest.WithURL(base+"/api/v10")),
		bot.WithGatewayConfigOpts(gateway.WithIntents(gateway.IntentGuilds, gateway.IntentGuildMembers,
			gateway.IntentGuildMessages, gateway.IntentMessageContent, gateway.IntentDirectMessages)),
		bot.WithCacheConfigOpts(cache.WithCaches(cache.FlagsAll)),
		bot.WithEventListenerFunc(func(e *events.GuildsReady) {
			var gs []report.Guild
			c := e.Client().Caches()
			c.GuildsForEach(func(g discord.Guild) {
				n := 0
				c.ChannelsForEach(func(ch discord.GuildChannel) {
					if ch.GuildID() == g.ID {
						n++
					}
				})
				gs = append(gs, report.Guild{ID: g.ID.String(), Name: g.Name, Channels: n, Members: c.MembersLen(g.ID)})
			})
			self, _ := c.SelfUser()
			report.Ready(self.ID.String(), gs)
		}),
		bot.WithEventListenerFunc(func(e *events.MessageCreate) {
			m := e.Message
			gid := ""
			if m.GuildID != nil {
				gid = m.GuildID.String()
			}
			report.Message(m.ID.String(), m.ChannelID.String(), gid, m.Author.ID.String(), m.Content)
			if text, ok := report.Say(m.Content); ok && !m.Author.Bot {
				sent, err := e.Client().Rest().CreateMessage(m.ChannelID, discord.NewMessageCreateBuilder().SetContent(text).Build())
				id := ""
				if sent != nil {
					id = sent.ID.String()
				}
				report.Done("sent", id, err)
			}
		}),
		bot.WithEventListenerFunc(func(e *events.ApplicationCommandInteractionCreate) {
			report.Emit("interaction", map[string]any{"id": e.ID().String(), "name": e.Data.CommandName()})
			err := e.CreateMessage(discord.NewMessageCreateBuilder().SetContent("pong").Build())
			report.Done("replied", e.ID().String(), err)
		}),
	)
	if err != nil {
		log.Fatal(err)
	}
	if err := client.OpenGateway(ctx); err != nil {
		log.Fatal(err)
	}
	<-ctx.Done()
	client.Close(context.Background())
}
