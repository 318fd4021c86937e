package rest_test

import (
	"context"
	"fmt"

	"github.com/ipcord/ipcord/discord"
	"github.com/ipcord/ipcord/discordtest"
	"github.com/ipcord/ipcord/rest"
)

func ExampleClient_GatewayBot() {
	srv, _ := discordtest.NewServer(&discordtest.ServerOptions{Token: "secret"})
	defer srv.Close()

	c := &rest.Client{Token: "secret", BaseURL: srv.URL}
	gb, err := c.GatewayBot(context.Background())
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(gb.Shards, gb.SessionStartLimit.MaxConcurrency)
	// Output: 1 1
}

func ExampleClient_CreateFollowup() {
	srv, _ := discordtest.NewServer(nil)
	defer srv.Close()

	c := &rest.Client{BaseURL: srv.URL}
	m, err := c.CreateFollowup(context.Background(), 1, "interaction-token",
		&discord.MessageParams{Content: "see attached"}, rest.File{Name: "report.txt", Data: []byte("all good")})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(m.Content, m.Attachments[0].Filename)
	// Output: see attached report.txt
}
