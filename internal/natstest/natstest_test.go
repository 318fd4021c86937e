package natstest_test

import (
	"testing"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/ipcord/ipcord/internal/leaktest"
	"github.com/ipcord/ipcord/internal/natstest"
)

// Start's server takes clients on 127.0.0.1, with the options asked for,
// and is gone once the test's cleanups ran.
func TestStart(t *testing.T) {
	leaktest.Check(t)
	var s *server.Server
	t.Run("server", func(t *testing.T) {
		s = natstest.Start(t, &server.Options{Host: "0.0.0.0", JetStream: true, StoreDir: t.TempDir()})
		if !s.JetStreamEnabled() {
			t.Error("JetStream asked for and not enabled")
		}
		nc, err := nats.Connect(s.ClientURL())
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		if host := s.Addr().String(); host[:10] != "127.0.0.1:" {
			t.Errorf("listening on %s, want 127.0.0.1", host)
		}
	})
	if s.Running() {
		t.Error("the server still runs after its test ended")
	}
}
