package natsipc_test

import (
	"context"
	"testing"
	"time"

	"github.com/ipcord/ipcord/internal/leaktest"
	"github.com/ipcord/ipcord/ipc"
	"github.com/ipcord/ipcord/ipc/natsipc"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// Authentication is NATS's own: Connect passes the caller's options
// through, and without credentials the server refuses the connection.
func TestConnectPassesAuthOptions(t *testing.T) {
	leaktest.Check(t)
	s, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true, Username: "bot", Password: "s3cret"})
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	t.Cleanup(func() { s.Shutdown(); s.WaitForShutdown() })
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats-server did not start")
	}
	url := s.ClientURL()

	if n, err := natsipc.Connect(url, natsipc.Config{}, nats.MaxReconnects(0)); err == nil {
		n.Close()
		t.Fatal("connected without credentials")
	}
	r := ipc.NewRouter()
	r.HandleFunc("ping", func(ctx context.Context, req *ipc.Request) (any, error) { return "pong", nil })
	srv, err := natsipc.Connect(url, natsipc.Config{Cluster: "c0", Router: r}, nats.UserInfo("bot", "s3cret"))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	caller, err := natsipc.Connect(url, natsipc.Config{}, nats.UserInfo("bot", "s3cret"))
	if err != nil {
		t.Fatal(err)
	}
	defer caller.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if got, err := ipc.CallAs[string](ctx, caller, "ping", nil); err != nil || got != "pong" {
		t.Fatalf("ping = %q, %v", got, err)
	}
}
