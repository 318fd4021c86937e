package shard_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/ipcord/ipcord/discordtest"
	"github.com/ipcord/ipcord/gateway"
	"github.com/ipcord/ipcord/gateway/shard"
)

// A shard against the fake gateway: events reach the handler in order,
// and closing keeps the session resumable.
func Example() {
	g := &discordtest.Gateway{HeartbeatInterval: time.Second}
	if err := g.Start(); err != nil {
		log.Fatal(err)
	}
	defer g.Close()

	events := make(chan shard.Event, 16)
	s, err := shard.New(shard.Config{
		Gateway: gateway.Config{Token: "token", URL: g.URL(), Intents: gateway.IntentGuildMessages},
		Handler: func(ctx context.Context, ev shard.Event) { events <- ev },
	})
	if err != nil {
		log.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()

	ev := <-events
	fmt.Println(ev.Name, ev.Seq)
	g.Dispatch(0, "MESSAGE_CREATE", map[string]string{"content": "hello"})
	ev = <-events
	var msg struct{ Content string }
	if err := ev.Decode(&msg); err != nil {
		log.Fatal(err)
	}
	fmt.Println(ev.Name, ev.Seq, msg.Content)

	if err := s.Close(ctx, false); err != nil {
		log.Fatal(err)
	}
	fmt.Println("Run:", <-done)
	fmt.Println("resumable:", s.Session().Valid(), "at seq", s.Session().Seq)
	// Output:
	// READY 1
	// MESSAGE_CREATE 2 hello
	// Run: <nil>
	// resumable: true at seq 2
}

// A Manager sizes the shards and routes guilds to them.
func ExampleManager() {
	g := &discordtest.Gateway{HeartbeatInterval: time.Second, Shards: 2, MaxConcurrency: 2}
	if err := g.Start(); err != nil {
		log.Fatal(err)
	}
	defer g.Close()

	ready := make(chan int, 2)
	m, err := shard.NewManager(shard.ManagerConfig{
		ShardCount: 2, MaxConcurrency: 2,
		Shard: shard.Config{
			Gateway: gateway.Config{Token: "token", URL: g.URL()},
			Handler: func(ctx context.Context, ev shard.Event) {
				if ev.Name == "READY" {
					ready <- ev.Shard
				}
			},
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	<-ready
	<-ready
	fmt.Println("guild 81384788765712384 is on shard", m.ShardFor(81384788765712384))
	if err := m.Close(ctx, true); err != nil {
		log.Fatal(err)
	}
	fmt.Println("Run:", <-done)
	// Output:
	// guild 81384788765712384 is on shard 0
	// Run: <nil>
}
