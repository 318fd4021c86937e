package natsipc_test

import (
	"testing"

	"github.com/ipcord/ipcord/internal/leaktest"
	"github.com/ipcord/ipcord/internal/natstest"
	"github.com/ipcord/ipcord/ipc/natsipc"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// Authentication is NATS's own: Connect passes the caller's options
// through, and without credentials the server refuses the connection.
func TestConnectPassesAuthOptions(t *testing.T) {
	leaktest.Check(t)
	url := natstest.Start(t, &server.Options{Username: "bot", Password: "s3cret"}).ClientURL()
	if n, err := natsipc.Connect(url, natsipc.Config{}, nats.MaxReconnects(0)); err == nil {
		n.Close()
		t.Fatal("connected without credentials")
	}
	pingThrough(t, url, nats.UserInfo("bot", "s3cret"))
}
