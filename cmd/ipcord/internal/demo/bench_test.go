package demo_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http/httptest"
	"testing"

	"github.com/ipcord/ipcord/cmd/ipcord/internal/demo"
	"github.com/ipcord/ipcord/ipc"
)

// BenchmarkBotHandleMessage is the bot's cost per ordinary message event:
// decode, cache lookup, rate and recent-events bookkeeping.
func BenchmarkBotHandleMessage(b *testing.B) {
	f := startFake(b, demo.FakeConfig{Guilds: 5})
	bot, err := demo.NewBot(demo.BotConfig{REST: restFor(b, f)})
	if err != nil {
		b.Fatal(err)
	}
	g := f.Guilds()[0]
	bot.HandleEvent(context.Background(), demo.Event{Name: "GUILD_CREATE", Data: g.JSON()})
	ev := demo.Event{Name: "MESSAGE_CREATE", Data: json.RawMessage(`{"id":"77","channel_id":"` + sfmt(g.ChannelID) +
		`","guild_id":"` + sfmt(g.ID) + `","author":{"id":"5","username":"ada"},"content":"anyone up for a game?"}`)}
	b.ReportAllocs()
	for b.Loop() {
		bot.HandleEvent(context.Background(), ev)
	}
}

// BenchmarkStats compares one stats read three ways: in process, over IPC
// (what a dashboard process pays), and through the dashboard's HTTP API
// (what the page pays).
func BenchmarkStats(b *testing.B) {
	f := startFake(b, demo.FakeConfig{Guilds: 5})
	bot, err := demo.NewBot(demo.BotConfig{REST: restFor(b, f)})
	if err != nil {
		b.Fatal(err)
	}
	for _, g := range f.Guilds() {
		bot.HandleEvent(context.Background(), demo.Event{Name: "GUILD_CREATE", Data: g.JSON()})
	}
	b.Run("in-process", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if s := bot.Stats(); s.Guilds != 5 {
				b.Fatal(s)
			}
		}
	})
	srv := &ipc.Server{Router: bot.Router(), Secret: "s"}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	defer srv.Shutdown(context.Background())
	c, err := ipc.Dial(context.Background(), ipc.ClientConfig{URL: "ws" + hs.URL[len("http"):], Secret: "s"})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	b.Run("ipc", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := ipc.CallAs[demo.Stats](context.Background(), c, demo.RouteStats, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
	dash := httptest.NewServer(&demo.Dashboard{Bot: c})
	defer dash.Close()
	cl := dash.Client()
	b.Run("dashboard-http", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			resp, err := cl.Get(dash.URL + "/api/stats")
			if err != nil {
				b.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				b.Fatal(resp.Status)
			}
		}
	})
}
