package report

import (
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
)

var mu sync.Mutex

// Emit writes one event line: ev names it, fields are its data.
func Emit(ev string, fields map[string]any) {
	mu.Lock()
	defer mu.Unlock()
	m := map[string]any{"ev": ev}
	for k, v := range fields {
		m[k] = v
	}
	b, _ := json.Marshal(m)
	os.Stdout.Write(append(b, '\n'))
}

// Guild is what a bot's library made of one GUILD_CREATE.
type Guild struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Channels int    `json:"channels"`
	Members  int    `json:"members"`
}

// Ready reports the bot's user and the guilds its library holds.
func Ready(userID string, guilds []Guild) {
	Emit("ready", map[string]any{"user_id": userID, "guilds": guilds})
}

// Message reports a message the library parsed from MESSAGE_CREATE.
func Message(id, channelID, guildID, authorID, content string) {
	Emit("message", map[string]any{"id": id, "channel_id": channelID, "guild_id": guildID, "author_id": authorID, "content": content})
}

// Done reports the outcome of an action the bot took (a send, a reply).
func Done(action, id string, err error) {
	f := map[string]any{"id": id}
	if err != nil {
		f["err"] = err.Error()
	}
	Emit(action, f)
}

// Say returns the text a "!say TEXT" message asks the bot to send.
func Say(content string) (string, bool) {
	return strings.CutPrefix(content, "!say ")
}

// Env returns the fake's base URL and the bot token the test gives.
func Env() (base, token string) {
	return os.Getenv("IPCORD_FAKE"), os.Getenv("DISCORD_TOKEN")
}

// RedirectDiscord points every HTTP request the process makes through
// http.DefaultTransport at the fake, whatever host it names: the way to
// use libraries whose endpoints are fixed at discord.com, unmodified.
func RedirectDiscord(base string) {
	fake, err := url.Parse(base)
	if err != nil || fake.Host == "" {
		panic("IPCORD_FAKE is not a URL: " + base)
	}
	next := http.DefaultTransport
	http.DefaultTransport = roundTripper(func(req *http.Request) (*http.Response, error) {
		req = req.Clone(req.Context())
		req.URL.Scheme, req.URL.Host, req.Host = fake.Scheme, fake.Host, fake.Host
		return next.RoundTrip(req)
	})
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
