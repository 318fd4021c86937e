package natstest_test

import (
	"fmt"
	"log"
	"testing"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/ipcord/ipcord/internal/natstest"
)

// A server with JetStream for one test: Start stops it when the test
// ends.
func ExampleStart() {
	testFleet := func(t *testing.T) {
		s := natstest.Start(t, &server.Options{JetStream: true, StoreDir: t.TempDir()})
		nc, err := nats.Connect(s.ClientURL())
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
	}
	_ = testFleet
}

func ExampleRun() {
	s, err := natstest.Run(nil)
	if err != nil {
		log.Fatal(err)
	}
	defer s.Shutdown()
	nc, err := nats.Connect(s.ClientURL())
	if err != nil {
		log.Fatal(err)
	}
	defer nc.Close()
	fmt.Println(nc.IsConnected(), s.Addr().String() != "127.0.0.1:4222")
	// Output: true true
}
