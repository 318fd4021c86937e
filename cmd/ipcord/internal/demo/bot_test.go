package demo_test

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ipcord/ipcord/cmd/ipcord/internal/demo"
	"github.com/ipcord/ipcord/discord"
	"github.com/ipcord/ipcord/discordtest"
	"github.com/ipcord/ipcord/interactions"
	"github.com/ipcord/ipcord/internal/leaktest"
	"github.com/ipcord/ipcord/ipc"
	"github.com/ipcord/ipcord/rest"
)

// stubGateway stands in for the shard manager in tests of the bot alone:
// events come from the test through Bot.HandleEvent.
type stubGateway struct{ status []demo.ShardStatus }

func (g *stubGateway) Run(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }
func (g *stubGateway) Status() []demo.ShardStatus    { return g.status }

// clock is a hand-moved clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// newTestBot returns a bot whose REST goes to f, fed with f's sample
// guilds as GUILD_CREATE events.
func newTestBot(t *testing.T, f *demo.Fake, clk *clock) *demo.Bot {
	t.Helper()
	gw := &stubGateway{status: []demo.ShardStatus{{ID: 0, State: "READY", LatencyMS: 12.5}, {ID: 1, State: "READY"}}}
	cfg := demo.BotConfig{
		REST:    &rest.Client{Token: "tok", BaseURL: f.APIURL(), HTTPClient: &http.Client{Transport: &http.Transport{}}},
		Gateway: func(demo.EventHandler) (demo.Gateway, error) { return gw, nil },
	}
	if clk != nil {
		cfg.Now = clk.Now
	}
	t.Cleanup(cfg.REST.HTTPClient.CloseIdleConnections)
	b, err := demo.NewBot(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	b.HandleEvent(ctx, demo.Event{Name: "READY", Data: json.RawMessage(`{"user":{"id":"1000000000000000001","username":"ipcord-demo","bot":true}}`)})
	for i, g := range f.Guilds() {
		b.HandleEvent(ctx, demo.Event{Shard: i % 2, Name: "GUILD_CREATE", Data: g.JSON()})
	}
	return b
}

func TestBotCacheAndStats(t *testing.T) {
	leaktest.Check(t)
	f := startFake(t, demo.FakeConfig{Token: "tok", Guilds: 3})
	clk := &clock{now: time.Unix(1_800_000_000, 0)}
	b := newTestBot(t, f, clk)
	want := 0
	for _, g := range f.Guilds() {
		want += g.MemberCount
	}
	g0 := f.Guilds()[0]
	b.HandleEvent(context.Background(), demo.Event{Name: "GUILD_MEMBER_ADD", Data: json.RawMessage(`{"guild_id":"` + sfmt(g0.ID) + `","user":{"id":"9"}}`)})
	for range 20 {
		clk.Add(250 * time.Millisecond)
		b.HandleEvent(context.Background(), demo.Event{Name: "TYPING_START", Data: json.RawMessage(`{}`)})
	}
	clk.Add(time.Second)
	s := b.Stats()
	if s.Guilds != 3 || s.Members != want+1 {
		t.Errorf("stats guilds %d members %d, want 3 and %d", s.Guilds, s.Members, want+1)
	}
	if s.EventsTotal != 1+3+1+20 {
		t.Errorf("events total %d, want 25", s.EventsTotal)
	}
	// 20 events over 5 s: about 4 per second.
	if s.EventsPerSecond < 3 || s.EventsPerSecond > 6 {
		t.Errorf("events per second %.2f, want about 4", s.EventsPerSecond)
	}
	if len(s.Shards) != 2 || s.Shards[0].Guilds != 2 || s.Shards[1].Guilds != 1 || s.Shards[0].LatencyMS != 12.5 {
		t.Errorf("shards %+v", s.Shards)
	}
	gs := b.Guilds()
	if len(gs) != 3 || gs[0].Name != "gophers" || len(gs[0].Channels) != 1 {
		t.Errorf("guilds %+v", gs)
	}
	b.HandleEvent(context.Background(), demo.Event{Name: "GUILD_DELETE", Data: json.RawMessage(`{"id":"` + sfmt(g0.ID) + `"}`)})
	if s := b.Stats(); s.Guilds != 2 {
		t.Errorf("after GUILD_DELETE: %d guilds", s.Guilds)
	}
	recent := b.Recent(0)
	if len(recent) == 0 || recent[len(recent)-1].Type != "GUILD_DELETE" || recent[len(recent)-1].Guild != g0.Name {
		t.Errorf("last recent event %+v", recent[len(recent)-1])
	}
	if after := b.Recent(recent[len(recent)-2].N); len(after) != 1 {
		t.Errorf("Recent(after) = %d events, want 1", len(after))
	}
}

func TestBotRecentIsBounded(t *testing.T) {
	f := startFake(t, demo.FakeConfig{Guilds: -1})
	b, err := demo.NewBot(demo.BotConfig{REST: &rest.Client{BaseURL: f.APIURL()}, Recent: 5})
	if err != nil {
		t.Fatal(err)
	}
	for range 12 {
		b.HandleEvent(context.Background(), demo.Event{Name: "X"})
	}
	r := b.Recent(0)
	if len(r) != 5 || r[0].N != 8 || r[4].N != 12 {
		t.Errorf("recent %+v, want events 8..12", r)
	}
}

func TestBotPingCommandAnswersThroughREST(t *testing.T) {
	leaktest.Check(t)
	ctx := testCtx(t)
	f := startFake(t, demo.FakeConfig{Token: "tok"})
	b := newTestBot(t, f, nil)
	g := f.Guilds()[0]
	msg := func(author, content string) demo.Event {
		return demo.Event{Name: "MESSAGE_CREATE", Data: json.RawMessage(`{"id":"77","channel_id":"` + sfmt(g.ChannelID) +
			`","guild_id":"` + sfmt(g.ID) + `","author":{"id":"` + author + `","username":"ada"},"content":"` + content + `"}`)}
	}
	b.HandleEvent(ctx, msg("5", "hello"))
	b.HandleEvent(ctx, msg("1000000000000000001", "!ping")) // its own: ignored
	b.HandleEvent(ctx, msg("5", "!ping"))
	r, err := f.REST().Wait(ctx, discordtest.Route("POST /channels/*/messages"))
	if err != nil {
		t.Fatal(err)
	}
	var p discord.MessageParams
	r.Decode(&p)
	if !strings.HasPrefix(p.Content, "pong!") || p.MessageReference == nil || p.MessageReference.MessageID != 77 {
		t.Errorf("answer %s", r.JSON)
	}
	if n := len(f.REST().Requests()); n != 1 {
		t.Errorf("%d REST requests, want 1 (only the !ping from a user is answered)", n)
	}
}

func TestBotListenerOverGatewayAndHTTP(t *testing.T) {
	leaktest.Check(t)
	ctx := testCtx(t)
	f := startFake(t, demo.FakeConfig{Token: "tok"})
	b := newTestBot(t, f, nil)
	signer, err := discordtest.NewSigner()
	if err != nil {
		t.Fatal(err)
	}
	ep := registerEndpoint(t, f, b, interactions.Config{PublicKey: signer.PublicKeyHex()})
	if cmds := ep.Commands(); len(cmds) != 1 || cmds[0].Name != demo.PingCommand {
		t.Fatalf("commands to register: %+v", cmds)
	}

	// Over the gateway: the endpoint's listener, answered through the
	// callback route.
	in := `{"id":"1234567890123","application_id":"1000000000000000001","type":2,"token":"itok","version":1,
		"data":{"id":"5","name":"ping","type":1},"member":{"user":{"id":"9","username":"grace"},"roles":[]}}`
	b.HandleEvent(ctx, demo.Event{Name: "INTERACTION_CREATE", Data: json.RawMessage(in)})
	r, err := f.REST().Wait(ctx, discordtest.Route("POST /interactions/1234567890123/itok/callback"))
	if err != nil {
		t.Fatal(err)
	}
	var resp discord.InteractionResponse
	r.Decode(&resp)
	if resp.Type != discord.ResponseMessage || resp.Data == nil || !strings.Contains(resp.Data.Content, "Pong, grace!") ||
		!strings.Contains(resp.Data.Content, "via gateway") {
		t.Errorf("callback %s", r.JSON)
	}

	// Over HTTP: the same listener, verified with a real signature.
	srv := httptest.NewServer(ep)
	t.Cleanup(srv.Close)
	req, _ := signer.NewRequest(ctx, srv.URL, []byte(in))
	hr, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer hr.Body.Close()
	var hresp discord.InteractionResponse
	json.NewDecoder(hr.Body).Decode(&hresp)
	if hr.StatusCode != 200 || hresp.Data == nil || !strings.Contains(hresp.Data.Content, "via HTTP") {
		t.Errorf("HTTP answer %d %+v", hr.StatusCode, hresp)
	}
	if s := b.Stats(); s.Answered != 2 {
		t.Errorf("answered %d, want 2", s.Answered)
	}
}

// An INTERACTION_CREATE's deadline counts from when the shard read it
// (Event.Received), not from when the bot got to it: one read long ago is
// past Discord's 3 seconds and never answered.
func TestBotGatewayInteractionDeadlineFromReceived(t *testing.T) {
	leaktest.Check(t)
	f := startFake(t, demo.FakeConfig{Token: "tok"})
	b := newTestBot(t, f, nil)
	errs := make(chan error, 4)
	registerEndpoint(t, f, b, interactions.Config{PublicKey: strings.Repeat("00", 32),
		OnError: func(_ *interactions.Event, err error) { errs <- err }})
	in := `{"id":"1234567890124","application_id":"1000000000000000001","type":2,"token":"itok","version":1,
		"data":{"id":"5","name":"ping","type":1},"member":{"user":{"id":"9","username":"grace"},"roles":[]}}`
	b.HandleEvent(testCtx(t), demo.Event{Name: "INTERACTION_CREATE", Data: json.RawMessage(in), Received: time.Now().Add(-10 * time.Second)})
	select {
	case err := <-errs:
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("error %v, want the callback's deadline (3 s after the read) exceeded", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("an interaction read 10 s ago was answered")
	}
	if n := len(f.REST().Requests()); n != 0 {
		t.Fatalf("%d REST requests, want none", n)
	}
}

// registerEndpoint makes an interactions endpoint with cfg that answers
// through f's REST API, and registers b's listeners on it.
func registerEndpoint(t *testing.T, f *demo.Fake, b *demo.Bot, cfg interactions.Config) *interactions.Endpoint {
	t.Helper()
	tr := &http.Transport{}
	cfg.REST = &rest.Client{BaseURL: f.APIURL(), HTTPClient: &http.Client{Transport: tr}}
	ep, err := interactions.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ep.Shutdown(context.Background())
		tr.CloseIdleConnections()
	})
	if err := b.Register(ep); err != nil {
		t.Fatal(err)
	}
	return ep
}

// serveBot serves the bot's routes over a real IPC server and returns a
// client dialed to it.
func serveBot(t *testing.T, b *demo.Bot) (*ipc.Server, *ipc.Client) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &ipc.Server{Router: b.Router(), Secret: "s"}
	done := make(chan struct{})
	go func() { defer close(done); srv.Serve(ln) }()
	c, err := ipc.Dial(testCtx(t), ipc.ClientConfig{URL: "ws://" + ln.Addr().String(), Secret: "s", Identifier: "dashboard"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		<-done
	})
	return srv, c
}

func TestBotRoutesOverIPC(t *testing.T) {
	leaktest.Check(t)
	ctx := testCtx(t)
	f := startFake(t, demo.FakeConfig{Token: "tok"})
	b := newTestBot(t, f, nil)
	_, c := serveBot(t, b)

	st, err := ipc.CallAs[demo.Stats](ctx, c, demo.RouteStats, nil)
	if err != nil || st.Guilds != 3 || len(st.Shards) != 2 {
		t.Errorf("stats = %+v, %v", st, err)
	}
	gs, err := ipc.CallAs[[]demo.GuildInfo](ctx, c, demo.RouteGuilds, nil)
	if err != nil || len(gs) != 3 {
		t.Errorf("guilds = %+v, %v", gs, err)
	}
	evs, err := ipc.CallAs[[]demo.RecentEvent](ctx, c, demo.RouteEvents, demo.EventsArgs{After: 1})
	if err != nil || len(evs) != 3 || evs[0].N != 2 {
		t.Errorf("events after 1 = %+v, %v", evs, err)
	}
	ch := sfmt(f.Guilds()[0].ChannelID)
	m, err := ipc.CallAs[demo.SentMessage](ctx, c, demo.RouteSendMessage, demo.SendMessageArgs{ChannelID: ch, Content: "from the dashboard"})
	if err != nil || m.ChannelID != ch || m.Content != "from the dashboard" || m.ID == "" {
		t.Errorf("send_message = %+v, %v", m, err)
	}
	if _, err := f.REST().Wait(ctx, func(r discordtest.Request) bool { return strings.Contains(string(r.JSON), "from the dashboard") }); err != nil {
		t.Error(err)
	}

	for _, tc := range []struct {
		args demo.SendMessageArgs
		code string
	}{
		{demo.SendMessageArgs{ChannelID: "general", Content: "x"}, demo.CodeBadChannel},
		{demo.SendMessageArgs{ChannelID: ch}, demo.CodeBadContent},
		{demo.SendMessageArgs{ChannelID: ch, Content: strings.Repeat("é", 2001)}, demo.CodeBadContent},
	} {
		_, err := ipc.CallAs[demo.SentMessage](ctx, c, demo.RouteSendMessage, tc.args)
		var ie *ipc.Error
		if !errors.As(err, &ie) || ie.Code != tc.code {
			t.Errorf("send_message %+v: %v, want code %s", tc.args, err, tc.code)
		}
	}
	f.REST().InjectFault(discordtest.Fault{Route: "POST /channels/*/messages", Status: 403})
	_, err = ipc.CallAs[demo.SentMessage](ctx, c, demo.RouteSendMessage, demo.SendMessageArgs{ChannelID: ch, Content: "x"})
	if !errors.Is(err, &ipc.Error{Code: demo.CodeDiscord}) {
		t.Errorf("send_message with Discord refusing: %v, want %s", err, demo.CodeDiscord)
	}
}
