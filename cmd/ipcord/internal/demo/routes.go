package demo

import (
	"context"
	"fmt"
	"unicode/utf8"

	"github.com/ipcord/ipcord/discord"
	"github.com/ipcord/ipcord/ipc"
)

// Route names the bot serves over IPC.
const (
	RouteStats       = "stats"
	RouteGuilds      = "guilds"
	RouteSendMessage = "send_message"
	RouteEvents      = "events"
)

// Codes of the errors the bot's routes return.
const (
	CodeBadChannel = "bad_channel"
	CodeBadContent = "bad_content"
	CodeDiscord    = "discord_error"
)

// SendMessageArgs are the arguments of the send_message route.
type SendMessageArgs struct {
	ChannelID string `json:"channel_id"`
	Content   string `json:"content"`
}

// SentMessage is what send_message returns: the message Discord created.
type SentMessage struct {
	ID        string `json:"id"`
	ChannelID string `json:"channel_id"`
	Content   string `json:"content"`
}

// EventsArgs are the arguments of the events route.
type EventsArgs struct {
	After int64 `json:"after"`
}

// Router returns the bot's IPC routes: stats, guilds, send_message and
// events (the recent events after a number, for live views), and deploy
// when its gateway can deploy a new generation of the shards.
func (b *Bot) Router() *ipc.Router {
	r := ipc.NewRouter()
	r.HandleAll(map[string]ipc.Handler{
		RouteStats: ipc.Func(func(ctx context.Context, _ struct{}) (Stats, error) { return b.Stats(), nil }),
		RouteGuilds: ipc.Func(func(ctx context.Context, _ struct{}) ([]GuildInfo, error) {
			return b.Guilds(), nil
		}),
		RouteEvents: ipc.Func(func(ctx context.Context, a EventsArgs) ([]RecentEvent, error) {
			return b.Recent(a.After), nil
		}),
		RouteSendMessage: ipc.Func(b.SendMessage),
	})
	if dep, ok := b.gw.(deployer); ok {
		r.Handle(RouteDeploy, ipc.Func(func(ctx context.Context, _ struct{}) (DeployStarted, error) {
			n, err := dep.Deploy(func(text string) { b.feed.add(b.cfg.Now(), "action", "deploy", text) })
			return DeployStarted{Generation: n}, err
		}))
	}
	return r
}

// DeployStarted is what the deploy route answers: the generation being
// deployed (the stats route's "deploy" follows it).
type DeployStarted struct {
	Generation int `json:"generation"`
}

// SendMessage posts a message in a channel through REST; it is the
// send_message route.
func (b *Bot) SendMessage(ctx context.Context, a SendMessageArgs) (SentMessage, error) {
	ch, err := discord.ParseSnowflake(a.ChannelID)
	if err != nil || ch == 0 {
		return SentMessage{}, &ipc.Error{Code: CodeBadChannel, Message: fmt.Sprintf("channel_id %q is not a snowflake", a.ChannelID)}
	}
	if a.Content == "" || utf8.RuneCountInString(a.Content) > 2000 {
		return SentMessage{}, &ipc.Error{Code: CodeBadContent, Message: "content must be 1 to 2000 characters"}
	}
	m, err := b.cfg.REST.CreateMessage(ctx, ch, &discord.MessageParams{Content: a.Content})
	if err != nil {
		return SentMessage{}, &ipc.Error{Code: CodeDiscord, Message: err.Error()}
	}
	return SentMessage{ID: m.ID.String(), ChannelID: m.ChannelID.String(), Content: m.Content}, nil
}
