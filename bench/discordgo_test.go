// discordgo is a peer library: its module may appear only in this module
// (bench/), so the test that a stock discordgo bot works against
// `ipcord fake` lives here rather than in e2e/.

package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/ipcord/ipcord/internal/proctest"
)

// TestDiscordgoAgainstFake runs a discordgo bot with the library's
// defaults (API v9, its own identify, heartbeats and handlers) against
// `ipcord fake`, run as its own process: only the endpoint variables, which
// is how discordgo is pointed anywhere, are changed. The bot answers !ping
// through REST.
func TestDiscordgoAgainstFake(t *testing.T) {
	// discordgo sends "Bot <token>" in IDENTIFY, as Discord accepts; with
	// --token the fake refuses any other token on REST and the gateway.
	fakeURL := startFake(t, "--listen", "127.0.0.1:0", "--token", "dgo-token", "--guilds", "2", "--heartbeat", "500ms")
	api := fakeURL + "/api/v" + discordgo.APIVersion + "/"
	discordgo.EndpointDiscord = fakeURL + "/"
	discordgo.EndpointAPI = api
	discordgo.EndpointChannels = api + "channels/"
	discordgo.EndpointGateway = api + "gateway"
	discordgo.EndpointGatewayBot = api + "gateway/bot"

	dg, err := discordgo.New("Bot dgo-token")
	if err != nil {
		t.Fatal(err)
	}
	guilds := make(chan *discordgo.Guild, 10)
	dg.AddHandler(func(s *discordgo.Session, g *discordgo.GuildCreate) { guilds <- g.Guild })
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
	var g *discordgo.Guild
	for range 2 {
		select {
		case g = <-guilds:
		case <-ctx.Done():
			t.Fatal("discordgo never got the sample guilds")
		}
	}
	if len(g.Channels) == 0 {
		t.Fatalf("guild %s came without channels", g.ID)
	}
	msg, _ := json.Marshal(map[string]any{"t": "MESSAGE_CREATE", "d": map[string]any{
		"id": "99", "channel_id": g.Channels[0].ID, "guild_id": g.ID, "content": "!ping", "type": 0,
		"author": map[string]any{"id": "42", "username": "you"}, "timestamp": time.Now().UTC().Format(time.RFC3339),
	}})
	resp, err := http.Post(fakeURL+"/_fake/dispatch", "application/json", bytes.NewReader(msg))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		t.Fatalf("dispatch: %s", resp.Status)
	}
	rec := waitSent(ctx, t, fakeURL, func(s sent) bool {
		for _, r := range s.REST {
			if r.Method == "POST" && strings.HasSuffix(r.Path, "/messages") && strings.Contains(string(r.JSON), "pong from discordgo") {
				return true
			}
		}
		return false
	})
	// discordgo heartbeats on the fake's interval. (Its HeartbeatLatency
	// is read without a lock, a data race under -race, so the fake's record
	// is what is checked.)
	heartbeat := false
	for _, p := range rec.Gateway {
		heartbeat = heartbeat || p.Op == 1
	}
	if !heartbeat {
		waitSent(ctx, t, fakeURL, func(s sent) bool {
			for _, p := range s.Gateway {
				if p.Op == 1 {
					return true
				}
			}
			return false
		})
	}
}

// sent is the body of the fake's GET /_fake/sent.
type sent struct {
	Gateway []struct {
		Op int `json:"op"`
	} `json:"gateway"`
	REST []struct {
		Method string          `json:"method"`
		Path   string          `json:"path"`
		JSON   json.RawMessage `json:"json"`
	} `json:"rest"`
}

// waitSent polls GET /_fake/sent until ok holds.
func waitSent(ctx context.Context, t *testing.T, fakeURL string, ok func(sent) bool) sent {
	t.Helper()
	var last []byte
	for {
		resp, err := http.Get(fakeURL + "/_fake/sent")
		if err == nil {
			last, _ = io.ReadAll(resp.Body)
			resp.Body.Close()
			var s sent
			if json.Unmarshal(last, &s) == nil && ok(s) {
				return s
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the fake never recorded what was expected; it has %s", last)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// startFake builds the root module's `ipcord` and runs `ipcord fake` with
// args as its own process until the test ends, and returns its REST base
// URL.
func startFake(t *testing.T, args ...string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "ipcord")
	if err := proctest.Build("..", "-o", bin, "./cmd/ipcord"); err != nil {
		t.Fatal(err)
	}
	p := proctest.Start(t, exec.Command(bin, append([]string{"fake"}, args...)...), proctest.Config{})
	return p.WaitFor(t, regexp.MustCompile(`REST +(http://127\.0\.0\.1:[0-9]+)/api/v10`), 30*time.Second)[1]
}
