package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"sync/atomic"
	"time"

	"github.com/ipcord/ipcord/bench/internal/fakeproc"
	"github.com/ipcord/ipcord/bench/internal/spread"
	"github.com/ipcord/ipcord/gateway"
	"github.com/ipcord/ipcord/gateway/shard"
	"github.com/ipcord/ipcord/rest"
)

func main() {
	n := flag.Int("n", 1000, "shards")
	mc := flag.Int("max-concurrency", 1000, "the fake's identify buckets")
	rounds := flag.Int("rounds", 5, "rounds")
	flag.Parse()
	dir, err := os.MkdirTemp("", "fakeready")
	if err != nil {
		fail(err)
	}
	defer os.RemoveAll(dir)
	bin, err := fakeproc.Build(dir)
	if err != nil {
		fail(err)
	}
	var times []float64
	for r := range *rounds {
		d, err := round(bin, *n, *mc)
		if err != nil {
			fail(err)
		}
		fmt.Printf("round %d: %d shards READY in %.2f s\n", r+1, *n, d.Seconds())
		times = append(times, d.Seconds())
	}
	fmt.Printf("%d shards, max_concurrency %d: median (range) %s over %d rounds\n",
		*n, *mc, spread.Of(times).Format(2, " s"), len(times))
}

func round(bin string, n, mc int) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	const token = "MTAwMDAwMDAwMDAwMDAwMDAwMQ.bench.token"
	fake := exec.CommandContext(ctx, bin, "fake", "--addr", "127.0.0.1:0", "--token", token,
		"--shards", fmt.Sprint(n), "--max-concurrency", fmt.Sprint(mc), "--guilds", fmt.Sprint(n))
	urls, err := fakeproc.Start(fake)
	defer func() {
		if fake.Process != nil {
			fake.Process.Kill()
			fake.Wait()
		}
	}()
	if err != nil {
		return 0, err
	}
	base := urls.Base + "/api/v10"
	var ready atomic.Int64
	all := make(chan struct{})
	m, err := shard.NewManager(shard.ManagerConfig{
		REST: &rest.Client{Token: token, BaseURL: base},
		Shard: shard.Config{
			Gateway: gateway.Config{Token: token, Intents: gateway.IntentGuilds},
			Handler: func(_ context.Context, ev shard.Event) {
				if ev.Name == "READY" && ready.Add(1) == int64(n) {
					close(all)
				}
			},
		},
	})
	if err != nil {
		return 0, err
	}
	start := time.Now()
	done := make(chan error, 1)
	mctx, stop := context.WithCancel(ctx)
	go func() { done <- m.Run(mctx) }()
	select {
	case <-all:
	case err := <-done:
		stop()
		return 0, fmt.Errorf("manager: %v", err)
	case <-ctx.Done():
		stop()
		return 0, fmt.Errorf("%d of %d shards READY: %w", ready.Load(), n, ctx.Err())
	}
	d := time.Since(start)
	stop()
	<-done
	return d, nil
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "fakeready:", err)
	os.Exit(1)
}
