package handoff_test

import (
	"context"
	"fmt"
	"log"
	"net"
	"time"

	"github.com/ipcord/ipcord/discordtest"
	"github.com/ipcord/ipcord/gateway"
	"github.com/ipcord/ipcord/gateway/shard"
	"github.com/ipcord/ipcord/gateway/shard/handoff"
	"github.com/ipcord/ipcord/ipc"
)

// A deploy: the old process serves its shards on its ipc server, the new
// one takes them over and the old one, holding nothing, can exit. (Both
// run in this one program here; in real life they are two processes.)
func Example() {
	g := &discordtest.Gateway{HeartbeatInterval: time.Second, Shards: 2, MaxConcurrency: 2}
	if err := g.Start(); err != nil {
		log.Fatal(err)
	}
	defer g.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	manager := func(ids []int) *shard.Manager {
		m, err := shard.NewManager(shard.ManagerConfig{
			ShardCount: 2, MaxConcurrency: 2, Shards: ids,
			Shard: shard.Config{
				Gateway: gateway.Config{Token: "token", URL: g.URL()},
				Handler: func(ctx context.Context, ev shard.Event) { /* the bot */ },
			},
		})
		if err != nil {
			log.Fatal(err)
		}
		go m.Run(ctx)
		return m
	}

	// The old process: its shards, and the handoff routes on its ipc server.
	old := manager(nil)
	for ready := 0; ready < 2; time.Sleep(10 * time.Millisecond) {
		ready = 0
		for _, st := range old.Status() {
			if st.State == shard.StateReady {
				ready++
			}
		}
	}
	src := &handoff.Source{Manager: old}
	r := ipc.NewRouter()
	if err := src.Register(r); err != nil {
		log.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	srv := &ipc.Server{Router: r, Secret: "s3cret"}
	go srv.Serve(ln)
	defer srv.Shutdown(context.Background())

	// The new process: a Manager with no shards, connected to the old one.
	next := manager([]int{})
	c, err := ipc.Dial(ctx, ipc.ClientConfig{URL: "ws://" + ln.Addr().String(), Secret: "s3cret"})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	moved, err := handoff.TakeOver(ctx, c, next, nil)
	if err != nil {
		log.Fatal(err)
	}
	for _, mv := range moved {
		fmt.Println("shard", mv.Shard, "resumed:", mv.Resumed)
	}
	<-src.Emptied()
	fmt.Println("old process holds", old.Shards(), "- new process holds", next.Shards())
	// Output:
	// shard 0 resumed: true
	// shard 1 resumed: true
	// old process holds [] - new process holds [0 1]
}
