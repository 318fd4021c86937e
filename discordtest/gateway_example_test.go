package discordtest_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/coder/websocket"
	"github.com/ipcord/ipcord/discordtest"
)

// A bot's gateway client connects to the fake as to Discord, with the URL
// that Get Gateway Bot would report.
func ExampleGateway() {
	g := &discordtest.Gateway{HeartbeatInterval: 5 * time.Second}
	if err := g.Start(); err != nil {
		log.Fatal(err)
	}
	defer g.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, g.URL()+"/?v=10&encoding=json", nil)
	if err != nil {
		log.Fatal(err)
	}
	defer ws.CloseNow()

	_, hello, _ := ws.Read(ctx)
	fmt.Println(string(hello))
	ws.Write(ctx, websocket.MessageText, []byte(`{"op":2,"d":{"token":"any","intents":513,"properties":{"os":"linux","browser":"bot","device":"bot"}}}`))
	if _, err := g.WaitSession(ctx, 0); err != nil {
		log.Fatal(err)
	}
	seq, _ := g.Dispatch(0, "MESSAGE_CREATE", map[string]string{"content": "hello"})
	fmt.Println("MESSAGE_CREATE is dispatch", seq)
	// Output:
	// {"op":10,"d":{"heartbeat_interval":5000},"s":null,"t":null}
	// MESSAGE_CREATE is dispatch 2
}

// Faults are aimed at a shard's live connection.
func ExampleGateway_CloseShard() {
	g := &discordtest.Gateway{}
	if err := g.Start(); err != nil {
		log.Fatal(err)
	}
	defer g.Close()
	err := g.CloseShard(0, 4000, "unknown error")
	fmt.Println(err)
	// Output:
	// discordtest: no live connection for shard
}

// A load test floods a bot's shard with events encoded once: as fast as
// the bot reads them, never more than a window ahead of it.
func ExampleGateway_Flood() {
	g := &discordtest.Gateway{}
	if err := g.Start(); err != nil {
		log.Fatal(err)
	}
	defer g.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, g.URL()+"/?v=10&encoding=json", nil)
	if err != nil {
		log.Fatal(err)
	}
	defer ws.CloseNow()
	ws.Read(ctx) // HELLO
	ws.Write(ctx, websocket.MessageText, []byte(`{"op":2,"d":{"token":"any","intents":513,"properties":{"os":"linux","browser":"bot","device":"bot"}}}`))
	ws.Read(ctx) // READY

	typing, _ := discordtest.NewEvent("TYPING_START", map[string]string{"channel_id": "1", "user_id": "2"})
	msg, _ := discordtest.NewEvent("MESSAGE_CREATE", map[string]string{"content": "load"})
	read := make(chan int)
	go func() { // the bot
		n := 0
		for n < 1000 {
			if _, _, err := ws.Read(ctx); err != nil {
				break
			}
			n++
		}
		read <- n
	}()
	last, err := g.Flood(ctx, 0, []*discordtest.Event{typing, msg}, 1000)
	fmt.Println("last seq", last, err)
	fmt.Println("the bot read", <-read)
	// Output:
	// last seq 1001 <nil>
	// the bot read 1000
}
