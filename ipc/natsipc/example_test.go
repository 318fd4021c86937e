package natsipc_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/ipcord/ipcord/ipc"
	"github.com/ipcord/ipcord/ipc/natsipc"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// Two clusters serve the same Router over an embedded NATS server; a
// dashboard calls one instance, one named cluster, and all of them.
func Example() {
	ns, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true})
	if err != nil {
		log.Fatal(err)
	}
	ns.Start()
	defer ns.Shutdown()
	if !ns.ReadyForConnections(5 * time.Second) {
		log.Fatal("nats-server did not start")
	}

	for _, name := range []string{"c0", "c1"} {
		r := ipc.NewRouter()
		guilds := map[string]int{"c0": 1200, "c1": 800}[name] // stands in for a real count
		r.Handle("guilds", ipc.Func(func(ctx context.Context, _ struct{}) (int, error) {
			return guilds, nil
		}))
		node, err := natsipc.Connect(ns.ClientURL(), natsipc.Config{Cluster: name, Router: r})
		if err != nil {
			log.Fatal(err)
		}
		defer node.Close()
	}

	dash, err := natsipc.Connect(ns.ClientURL(), natsipc.Config{}, nats.Name("dashboard"))
	if err != nil {
		log.Fatal(err)
	}
	defer dash.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	dash.Discover(ctx, 0) // learn the members before broadcasting

	n, err := ipc.CallAs[int](ctx, dash, "guilds", nil)
	fmt.Println("any instance:", n == 1200 || n == 800, err)
	n, err = ipc.CallAs[int](ctx, dash.Cluster("c1"), "guilds", nil)
	fmt.Println("c1:", n, err)
	results, err := dash.Broadcast(ctx, "guilds", nil)
	if err != nil {
		log.Fatal(err)
	}
	for _, r := range results {
		fmt.Printf("%s: %s %v\n", r.Client, r.Data, r.Err)
	}
	// Output:
	// any instance: true <nil>
	// c1: 800 <nil>
	// c0: 1200 <nil>
	// c1: 800 <nil>
}
