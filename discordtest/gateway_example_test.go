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
