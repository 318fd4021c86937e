package demo_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/ipcord/ipcord/cmd/ipcord/internal/demo"
	"github.com/ipcord/ipcord/rest"
)

// The sample guilds spread over shards by Discord's formula.
func ExampleSampleGuilds() {
	for _, g := range demo.SampleGuilds(3) {
		fmt.Printf("%s: shard %d of 2\n", g.Name, (g.ID>>22)%2)
	}
	// Output:
	// ipcord lounge: shard 0 of 2
	// gophers: shard 1 of 2
	// test server: shard 0 of 2
}

// A script's fault request is checked before it reaches the fake.
func ExampleDecodeFault() {
	f, err := demo.DecodeFault([]byte(`{"name":"invalid_session","shard":1,"resumable":true}`))
	fmt.Println(f.Name, f.Shard, f.Resumable, err)
	_, err = demo.DecodeFault([]byte(`{"name":"meteor"}`))
	fmt.Println(errors.Is(err, demo.ErrBadControl), err)
	// Output:
	// invalid_session 1 true <nil>
	// true demo: bad control request: unknown fault "meteor"
}

// A bot fed by hand: what its stats route reports after a GUILD_CREATE.
func ExampleBot() {
	f, err := demo.StartFake(demo.FakeConfig{Guilds: 1})
	if err != nil {
		panic(err)
	}
	defer f.Close()
	cl := &rest.Client{BaseURL: f.APIURL(), HTTPClient: &http.Client{Transport: &http.Transport{}}}
	defer cl.HTTPClient.CloseIdleConnections()
	b, err := demo.NewBot(demo.BotConfig{REST: cl})
	if err != nil {
		panic(err)
	}
	g := f.Guilds()[0]
	b.HandleEvent(context.Background(), demo.Event{Name: "GUILD_CREATE", Data: g.JSON()})
	s := b.Stats()
	fmt.Println(s.Guilds, s.Members, b.Guilds()[0].Name, b.Guilds()[0].Channels[0].Name)
	// Output:
	// 1 3 ipcord lounge general
}
