package natsipc_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/ipcord/ipcord/ipc"
	"github.com/ipcord/ipcord/ipc/natsipc"
	"github.com/nats-io/nats.go"
)

var benchArgs = json.RawMessage(`{"guild_id":"81384788765712384","shard":3}`)

// BenchmarkCall compares a natsipc call with 32 in flight to a bare
// nats.go request-reply of the same payload, over the same embedded server.
func BenchmarkCall(b *testing.B) {
	s := startServer(b, 0, "")
	url := s.ClientURL()
	b.Run("bare", func(b *testing.B) {
		srv := connect(b, url)
		sub, err := srv.Subscribe("bare.echo", func(m *nats.Msg) { m.Respond(m.Data) })
		if err != nil {
			b.Fatal(err)
		}
		defer sub.Unsubscribe()
		srv.Flush()
		nc := connect(b, url)
		b.ReportAllocs()
		b.SetParallelism(parallelism(32))
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := nc.Request("bare.echo", benchArgs, 5*time.Second); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
	b.Run("natsipc", func(b *testing.B) {
		r := ipc.NewRouter()
		r.HandleFunc("echo", func(ctx context.Context, req *ipc.Request) (any, error) { return req.Args, nil })
		srv := join(b, url, natsipc.Config{Cluster: "c0", Router: r})
		defer srv.Close()
		caller := join(b, url, natsipc.Config{})
		defer caller.Close()
		b.ReportAllocs()
		b.SetParallelism(parallelism(32))
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			ctx := context.Background()
			var out json.RawMessage
			for pb.Next() {
				if err := caller.Call(ctx, "echo", benchArgs, &out); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

// BenchmarkBroadcast compares a natsipc Broadcast to 3 clusters with a
// bare nats.go scatter-gather that publishes once and collects 3 replies.
func BenchmarkBroadcast(b *testing.B) {
	s := startServer(b, 0, "")
	url := s.ClientURL()
	b.Run("bare", func(b *testing.B) {
		for range 3 {
			srv := connect(b, url)
			sub, err := srv.Subscribe("bare.all", func(m *nats.Msg) { m.Respond(m.Data) })
			if err != nil {
				b.Fatal(err)
			}
			defer sub.Unsubscribe()
			srv.Flush()
		}
		nc := connect(b, url)
		inbox := nc.NewInbox()
		replies, err := nc.SubscribeSync(inbox)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			if err := nc.PublishRequest("bare.all", inbox, benchArgs); err != nil {
				b.Fatal(err)
			}
			for range 3 {
				if _, err := replies.NextMsg(5 * time.Second); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	b.Run("natsipc", func(b *testing.B) {
		for _, c := range []string{"c0", "c1", "c2"} {
			r := ipc.NewRouter()
			r.HandleFunc("echo", func(ctx context.Context, req *ipc.Request) (any, error) { return req.Args, nil })
			n := join(b, url, natsipc.Config{Cluster: c, Router: r})
			defer n.Close()
		}
		caller := join(b, url, natsipc.Config{})
		defer caller.Close()
		waitMembers(b, caller, "c0", "c1", "c2")
		ctx := context.Background()
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			res, err := caller.Broadcast(ctx, "echo", benchArgs)
			if err != nil || len(res) != 3 {
				b.Fatalf("broadcast = %v, %v", res, err)
			}
		}
	})
}

// parallelism returns the RunParallel multiplier that gives about n
// goroutines on this machine.
func parallelism(n int) int { return max(n/runtimeProcs(), 1) }

// BenchmarkCallVsBare: 32 calls in flight, natsipc against bare nats.go
// request-reply, in alternating rounds (see compare). time-ratio < 1.25
// means natsipc's throughput is at least 0.8x bare's.
func BenchmarkCallVsBare(b *testing.B) {
	s := startServer(b, 0, "")
	url := s.ClientURL()
	srv := connect(b, url)
	if _, err := srv.Subscribe("bare.echo", func(m *nats.Msg) { m.Respond(m.Data) }); err != nil {
		b.Fatal(err)
	}
	srv.Flush()
	nc := connect(b, url)
	r := ipc.NewRouter()
	r.HandleFunc("echo", func(ctx context.Context, req *ipc.Request) (any, error) { return req.Args, nil })
	join(b, url, natsipc.Config{Cluster: "c0", Router: r})
	caller := join(b, url, natsipc.Config{})
	ctx := context.Background()
	compare(b, 32, func() error {
		_, err := nc.Request("bare.echo", benchArgs, 5*time.Second)
		return err
	}, func() error {
		var out json.RawMessage
		return caller.Call(ctx, "echo", benchArgs, &out)
	})
}

// BenchmarkBroadcastVsBare: a Broadcast to 3 clusters against a bare
// nats.go scatter-gather collecting 3 replies, one at a time, in
// alternating rounds.
func BenchmarkBroadcastVsBare(b *testing.B) {
	s := startServer(b, 0, "")
	url := s.ClientURL()
	for _, c := range []string{"c0", "c1", "c2"} {
		srv := connect(b, url)
		if _, err := srv.Subscribe("bare.all", func(m *nats.Msg) { m.Respond(m.Data) }); err != nil {
			b.Fatal(err)
		}
		srv.Flush()
		r := ipc.NewRouter()
		r.HandleFunc("echo", func(ctx context.Context, req *ipc.Request) (any, error) { return req.Args, nil })
		join(b, url, natsipc.Config{Cluster: c, Router: r})
	}
	nc := connect(b, url)
	inbox := nc.NewInbox()
	replies, err := nc.SubscribeSync(inbox)
	if err != nil {
		b.Fatal(err)
	}
	caller := join(b, url, natsipc.Config{})
	waitMembers(b, caller, "c0", "c1", "c2")
	ctx := context.Background()
	compare(b, 1, func() error {
		if err := nc.PublishRequest("bare.all", inbox, benchArgs); err != nil {
			return err
		}
		for range 3 {
			if _, err := replies.NextMsg(5 * time.Second); err != nil {
				return err
			}
		}
		return nil
	}, func() error {
		res, err := caller.Broadcast(ctx, "echo", benchArgs)
		if err == nil && len(res) != 3 {
			err = fmt.Errorf("%d results", len(res))
		}
		return err
	})
}
