package clients

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ipcord/ipcord/internal/proctest"
)

// library is one Discord library's bot, run as its own process against
// `ipcord fake`.
type library struct {
	name string
	cmd  func() *exec.Cmd
	// fakeArgs are extra flags for `ipcord fake`.
	fakeArgs []string
	// query must be part of every connect URL the library uses (its
	// transport compression, its API version).
	query string
	// back says how the library comes back after each fault: "resume" (a
	// RESUME on resume_gateway_url), "resume-main" (a RESUME on the URL of
	// GET /gateway: the library ignores resume_gateway_url), "identify" (a
	// new session), or "stays" (the library does not notice the fault: it
	// keeps its connection, which still delivers events).
	back map[string]string
}

// Discord's rules for coming back: RESUME on resume_gateway_url after op 7,
// a resumable close and a zombied connection; IDENTIFY after
// INVALID_SESSION d:false.
var discordRules = map[string]string{
	"reconnect": "resume", "close": "resume", "stop_heartbeat_acks": "resume", "invalid_session": "identify",
}

// rules returns discordRules with the library's own departures from them.
func rules(departures ...string) map[string]string {
	r := map[string]string{}
	for k, v := range discordRules {
		r[k] = v
	}
	for i := 0; i+1 < len(departures); i += 2 {
		r[departures[i]] = departures[i+1]
	}
	return r
}

// identifyInterval is Discord's identify bucket: one IDENTIFY per 5 s,
// with a margin.
const identifyInterval = 5500 * time.Millisecond

// faults are applied in this order: the identifying one last, so that the
// identify bucket of the first IDENTIFY (one per 5 s) has long passed.
var faults = []string{"reconnect", "close", "stop_heartbeat_acks", "invalid_session"}

func goBot(name string) func() *exec.Cmd {
	return func() *exec.Cmd { return exec.Command(filepath.Join(bins, name)) }
}

var libraries = []library{
	// disgo 0.18 keeps no watch on heartbeat ACKs.
	{name: "disgo", cmd: goBot("disgobot"), query: "v=10", back: rules("stop_heartbeat_acks", "stays")},
	// arikawa 3.6 and discordgo 0.28 resume where they first connected.
	{name: "arikawa", cmd: goBot("arikawabot"), query: "v=9", back: rules(
		"reconnect", "resume-main", "close", "resume-main", "stop_heartbeat_acks", "resume-main")},
	// discordgo 0.28 also closes with 1000 when it finds a zombie, which
	// ends its session: its RESUME then fails and it identifies.
	{name: "discordgo", cmd: goBot("discordgobot"), query: "v=9", back: rules(
		"reconnect", "resume-main", "close", "resume-main", "stop_heartbeat_acks", "identify")},
	{name: "discord.js", cmd: nodeBot("none"), query: "v=10", back: discordRules},
	{name: "discord.js/zlib-stream", cmd: nodeBot("zlib-stream"), query: "compress=zlib-stream", back: discordRules},
	{name: "discord.py", cmd: pythonBot, query: "compress=zlib-stream", back: discordRules},
}

func nodeBot(compress string) func() *exec.Cmd {
	return func() *exec.Cmd {
		cmd := exec.Command("node", "bot.js")
		cmd.Dir = "js"
		cmd.Env = append(os.Environ(), "COMPRESS="+compress)
		return cmd
	}
}

// pythonBot runs Debian's python3-discord with Debian's interpreter: the
// package installs for /usr/bin/python3 only.
func pythonBot() *exec.Cmd {
	return exec.Command("/usr/bin/python3", "py/bot.py")
}

// TestLibraries runs the libraries side by side: each has its own fake,
// and most of a run is waiting (identify buckets, heartbeats), not CPU.
func TestLibraries(t *testing.T) {
	for _, lib := range libraries {
		t.Run(lib.name, func(t *testing.T) {
			t.Parallel()
			runLibrary(t, lib)
		})
	}
}

// botEvent is one line a bot reports (see internal/report).
type botEvent struct {
	Ev        string `json:"ev"`
	ID        string `json:"id"`
	ChannelID string `json:"channel_id"`
	GuildID   string `json:"guild_id"`
	AuthorID  string `json:"author_id"`
	UserID    string `json:"user_id"`
	Content   string `json:"content"`
	Name      string `json:"name"`
	Err       string `json:"err"`
	Guilds    []struct {
		ID       string `json:"id"`
		Name     string `json:"name"`
		Channels int    `json:"channels"`
		Members  int    `json:"members"`
	} `json:"guilds"`
}

// bot is a library's bot process and what it reported.
type bot struct {
	*proctest.Process
	t    *testing.T
	ctx  context.Context
	next int
}

// wait returns the next event (after the last one waited for) that match
// accepts.
func (b *bot) wait(what string, match func(botEvent) bool) botEvent {
	b.t.Helper()
	var ev botEvent
	_, next, err := b.WaitLine(b.ctx, b.next, func(line string) bool {
		var e botEvent
		if json.Unmarshal([]byte(line), &e) != nil || !match(e) {
			return false
		}
		ev = e
		return true
	})
	if err != nil {
		b.t.Fatalf("waiting for %s: %v", what, err)
	}
	b.next = next
	return ev
}

func runLibrary(t *testing.T, lib library) {
	f := startFake(t, lib.fakeArgs...)
	cmd := lib.cmd()
	if cmd.Env == nil {
		cmd.Env = os.Environ()
	}
	cmd.Env = append(cmd.Env, "IPCORD_FAKE="+f.base, "DISCORD_TOKEN="+botToken)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	b := &bot{Process: start(t, cmd), t: t, ctx: ctx}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("gateway payloads (conn listener op): %s", f.trace())
		}
	})

	// Log in; READY; every sample guild parsed into the library's objects.
	ready := b.wait("ready", func(e botEvent) bool { return e.Ev == "ready" })
	if ready.UserID != f.info.BotID || len(ready.Guilds) != len(f.info.Guilds) {
		t.Fatalf("ready: user %q, guilds %+v; want %s and %d guilds", ready.UserID, ready.Guilds, f.info.BotID, len(f.info.Guilds))
	}
	for _, want := range f.info.Guilds {
		found := false
		for _, g := range ready.Guilds {
			if g.ID == want.ID {
				found = true
				if g.Name != want.Name || g.Channels != 1 || (g.Members >= 0 && g.Members != 6) {
					t.Errorf("guild %s parsed as %+v, want name %q, 1 channel, 6 members", want.ID, g, want.Name)
				}
			}
		}
		if !found {
			t.Errorf("guild %s (%s) missing from the library's cache", want.ID, want.Name)
		}
	}
	onMain := false
	for _, p := range f.sent().Gateway {
		if p.Op == 2 {
			onMain = strings.Contains(p.Query, lib.query) && p.Listener == "main"
			break
		}
	}
	if !onMain {
		t.Fatalf("no IDENTIFY on the main URL with %q: %+v", lib.query, f.sent().Gateway)
	}

	g, user := f.info.Guilds[0], f.info.Users[0].ID
	// An event injected with POST /_fake/dispatch.
	if code, body := f.post("/_fake/dispatch", map[string]any{"t": "MESSAGE_CREATE", "d": injected(g.ID, g.ChannelID, user)}); code != 200 {
		t.Fatalf("dispatch: %d %s", code, body)
	}
	b.wait("the injected MESSAGE_CREATE", func(e botEvent) bool {
		return e.Ev == "message" && e.Content == "injected by /_fake/dispatch" && e.AuthorID == user && e.ChannelID == g.ChannelID
	})

	// A message sent with the library's API: recorded, echoed, parsed.
	text := "hello from " + lib.name
	mark := b.next // the echo may come before or after the send returns
	if code, body := f.post("/_fake/message", map[string]any{"channel_id": g.ChannelID, "author_id": user, "content": "!say " + text}); code != 200 {
		t.Fatalf("message: %d %s", code, body)
	}
	if s := b.wait("the send", func(e botEvent) bool { return e.Ev == "sent" }); s.Err != "" {
		t.Fatalf("the library's send failed: %s", s.Err)
	}
	b.next = mark
	b.wait("the echo of the bot's message", func(e botEvent) bool {
		return e.Ev == "message" && e.Content == text && e.AuthorID == f.info.BotID
	})
	if !f.recorded("POST", "/channels/"+g.ChannelID+"/messages", text) {
		t.Fatalf("the send is not in /_fake/sent: %+v", f.sent().REST)
	}

	// An INTERACTION_CREATE answered with the library's reply API.
	code, body := f.post("/_fake/command", map[string]any{"channel_id": g.ChannelID, "user_id": user, "name": "ping"})
	var in struct{ ID, Token string }
	if json.Unmarshal(body, &in); code != 200 || in.ID == "" {
		t.Fatalf("interaction: %d %s", code, body)
	}
	mark = b.next
	if r := b.wait("the reply", func(e botEvent) bool { return e.Ev == "replied" && e.ID == in.ID }); r.Err != "" {
		t.Fatalf("the library's reply failed: %s", r.Err)
	}
	if !f.recorded("POST", "/interactions/"+in.ID+"/"+in.Token+"/callback", "pong") {
		t.Fatalf("the reply is not in /_fake/sent: %+v", f.sent().REST)
	}
	b.next = mark
	b.wait("the reply's MESSAGE_CREATE", func(e botEvent) bool { return e.Ev == "message" && e.Content == "pong" })

	// Each fault, then the library back as Discord's rules say, then a
	// later event received.
	// A library that identified lets the identify bucket (one IDENTIFY per
	// 5 s) pass before the next fault, as it would see on Discord: a
	// library that re-identifies at once after INVALID_SESSION (discordgo)
	// would otherwise be refused in a loop.
	identified := time.Now()
	for _, fault := range faults {
		if wait := time.Until(identified.Add(identifyInterval)); wait > 0 {
			time.Sleep(wait)
		}
		before := len(f.sent().Gateway)
		req := map[string]any{"name": fault, "shard": 0}
		if fault == "close" {
			req["code"] = 4000
		}
		if code, body := f.post("/_fake/fault", req); code != 200 {
			t.Fatalf("fault %s: %d %s", fault, code, body)
		}
		want := lib.back[fault]
		f.awaitComeback(ctx, before, want == "stays")
		probe := "after " + fault
		if !poll(ctx, func() bool {
			code, _ := f.post("/_fake/message", map[string]any{"channel_id": g.ChannelID, "author_id": user, "content": probe})
			return code == 200
		}) {
			t.Fatalf("after %s the shard never had a session again", fault)
		}
		b.wait("an event after "+fault, func(e botEvent) bool { return e.Ev == "message" && e.Content == probe })
		// Only now, with the library settled, is it clear how it came
		// back: a RESUME that failed and the IDENTIFY after it is a new
		// session.
		got := f.comeback(before)
		if got.how != want || (want != "stays" && !strings.Contains(got.query, lib.query)) {
			t.Fatalf("after %s: %s (%s), want %s", fault, got.how, got.query, want)
		}
		if got.how == "identify" {
			identified = time.Now()
		}
	}
}

// comeback is how a library came back after a fault.
type comeback struct{ how, query string }

// awaitComeback waits for the library's first RESUME or IDENTIFY after
// index before; when the library is expected to stay, it waits five
// heartbeat intervals (the fake's is 1 s) for one not to come.
func (f *fake) awaitComeback(ctx context.Context, before int, stays bool) {
	if stays {
		c, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		ctx = c
	}
	poll(ctx, func() bool {
		for _, p := range f.sent().Gateway[before:] {
			if p.Op == 2 || p.Op == 6 {
				return true
			}
		}
		return false
	})
}

// comeback classifies the payloads sent since index before: "identify"
// if any IDENTIFY (a new session), else "resume" or "resume-main" by the
// listener of the last RESUME, else "stays".
func (f *fake) comeback(before int) comeback {
	got := comeback{how: "stays"}
	for _, p := range f.sent().Gateway[before:] {
		switch {
		case p.Op == 2:
			return comeback{"identify", p.Query}
		case p.Op == 6 && p.Listener == "resume":
			got = comeback{"resume", p.Query}
		case p.Op == 6:
			got = comeback{"resume-main", p.Query}
		}
	}
	return got
}

// trace is the payloads clients sent, heartbeats left out, one per
// "conn/listener/op".
func (f *fake) trace() string {
	var out []string
	for _, p := range f.sent().Gateway {
		if p.Op != 1 {
			out = append(out, fmt.Sprintf("%d/%s/%d", p.Conn, p.Listener, p.Op))
		}
	}
	return strings.Join(out, " ")
}

// recorded reports whether the fake received method path with a body
// containing text.
func (f *fake) recorded(method, path, text string) bool {
	for _, r := range f.sent().REST {
		if r.Method == method && r.Path == path && strings.Contains(string(r.JSON), text) {
			return true
		}
	}
	return false
}

// injected is a complete MESSAGE_CREATE, as a script would inject it.
func injected(guild, channel, user string) map[string]any {
	return map[string]any{
		"id": fmt.Sprint(time.Now().UnixMilli()-1420070400000) + "0000001", "channel_id": channel, "guild_id": guild,
		"author":  map[string]any{"id": user, "username": "ada", "discriminator": "0", "global_name": nil, "avatar": nil, "public_flags": 0},
		"member":  map[string]any{"roles": []any{}, "joined_at": "2024-01-01T00:00:00.000000+00:00", "deaf": false, "mute": false, "flags": 0, "nick": nil, "avatar": nil, "premium_since": nil, "pending": false},
		"content": "injected by /_fake/dispatch", "timestamp": time.Now().UTC().Format("2006-01-02T15:04:05.000000+00:00"),
		"edited_timestamp": nil, "tts": false, "mention_everyone": false, "mentions": []any{}, "mention_roles": []any{},
		"attachments": []any{}, "embeds": []any{}, "components": []any{}, "pinned": false, "type": 0, "flags": 0,
	}
}
