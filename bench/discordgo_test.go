// discordgo is a peer library: its module may appear only in this module
// (bench/), so the test that a stock discordgo bot works against
// `ipcord fake` lives here rather than in e2e/.

package bench

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/ipcord/ipcord/discordtest"
	"github.com/ipcord/ipcord/internal/demo"
)

// TestDiscordgoAgainstFake runs a discordgo bot with the library's
// defaults (API v9, its own identify, heartbeats and handlers) against
// `ipcord fake`: only the endpoint variables, which is how discordgo is
// pointed anywhere, are changed. The bot answers !ping through REST.
func TestDiscordgoAgainstFake(t *testing.T) {
	// discordgo sends "Bot <token>" in IDENTIFY, as Discord accepts.
	f, err := demo.StartFake(demo.FakeConfig{Token: "dgo-token", Guilds: 2, HeartbeatInterval: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	api := f.URL() + "/api/v" + discordgo.APIVersion + "/"
	discordgo.EndpointDiscord = f.URL() + "/"
	discordgo.EndpointAPI = api
	discordgo.EndpointChannels = api + "channels/"
	discordgo.EndpointGateway = api + "gateway"
	discordgo.EndpointGatewayBot = api + "gateway/bot"

	dg, err := discordgo.New("Bot dgo-token")
	if err != nil {
		t.Fatal(err)
	}
	guilds := make(chan string, 10)
	dg.AddHandler(func(s *discordgo.Session, g *discordgo.GuildCreate) { guilds <- g.Name })
	dg.AddHandler(func(s *discordgo.Session, m *discordgo.MessageCreate) {
		if m.Author.ID != s.State.User.ID && m.Content == "!ping" {
			s.ChannelMessageSend(m.ChannelID, "pong from discordgo")
		}
	})
	if err := dg.Open(); err != nil {
		t.Fatalf("discordgo could not connect to the fake: %v", err)
	}
	defer dg.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	for range 2 {
		select {
		case <-guilds:
		case <-ctx.Done():
			t.Fatal("discordgo never got the sample guilds")
		}
	}
	g := f.Guilds()[0]
	if _, _, err := f.Gateway().DispatchGuild(g.ID, "MESSAGE_CREATE", map[string]any{
		"id": "99", "channel_id": strconv.FormatUint(g.ChannelID, 10), "guild_id": strconv.FormatUint(g.ID, 10), "content": "!ping", "type": 0,
		"author": map[string]any{"id": "42", "username": "you"}, "timestamp": time.Now().UTC().Format(time.RFC3339),
	}); err != nil {
		t.Fatal(err)
	}
	r, err := f.REST().Wait(ctx, discordtest.Route("POST /channels/*/messages"))
	if err != nil {
		t.Fatalf("discordgo's answer never reached the fake: %v", err)
	}
	if !strings.Contains(string(r.JSON), "pong from discordgo") || r.Header.Get("Authorization") != "Bot dgo-token" {
		t.Errorf("answer %s with %q", r.JSON, r.Header.Get("Authorization"))
	}
	// discordgo heartbeats on the fake's interval. (Its HeartbeatLatency
	// is read without a lock, a data race under -race, so the fake's record
	// is what is checked.)
	if _, err := f.Gateway().WaitReceived(ctx, func(r discordtest.Received) bool { return r.Op == 1 }); err != nil {
		t.Errorf("no heartbeat from discordgo: %v", err)
	}
}
