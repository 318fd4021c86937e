package natstest

import (
	"errors"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// ErrNotReady is returned by Run when the server does not accept clients
// within its start timeout.
var ErrNotReady = errors.New("natstest: nats-server did not start")

// startTimeout bounds how long a loaded machine may take to start one.
const startTimeout = 10 * time.Second

// Run starts a nats-server with opts (nil for a plain one) and returns it
// once it accepts clients; the caller stops it with Shutdown. Whatever
// opts say, it listens on 127.0.0.1, logs nothing and leaves signals
// alone; Port 0 picks a free port (nats-server's own 0 means 4222).
func Run(opts *server.Options) (*server.Server, error) {
	var o server.Options
	if opts != nil {
		o = *opts
	}
	o.Host, o.NoLog, o.NoSigs = "127.0.0.1", true, true
	if o.Port == 0 {
		o.Port = server.RANDOM_PORT
	}
	s, err := server.NewServer(&o)
	if err != nil {
		return nil, err
	}
	s.Start()
	if !s.ReadyForConnections(startTimeout) {
		s.Shutdown()
		s.WaitForShutdown()
		return nil, ErrNotReady
	}
	return s, nil
}

// Start is Run for a test: it fails t if the server does not start, and
// stops the server when t ends.
func Start(t testing.TB, opts *server.Options) *server.Server {
	t.Helper()
	s, err := Run(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.Shutdown()
		s.WaitForShutdown()
	})
	return s
}
