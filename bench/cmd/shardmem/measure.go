package main

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/bwmarrin/discordgo"
	disgogw "github.com/disgoorg/disgo/gateway"
	"github.com/ipcord/ipcord/gateway"
	"github.com/ipcord/ipcord/gateway/shard"
)

// measure runs n shards of lib in this process, waits for every READY and
// then idle, and reports what they added per shard.
func measure(lib, mode, url, api string, n int, idle time.Duration) result {
	r := result{Lib: lib, Mode: mode}
	heap0, rss0, g0 := snapshot()
	ready := make(chan struct{}, n)
	onReady := func() { ready <- struct{}{} }
	start := time.Now()
	var stop func()
	var err error
	switch lib {
	case "ipcord":
		stop, err = runIpcord(mode, url, n, onReady)
	case "disgo":
		stop, err = runDisgo(url, n, onReady)
	case "discordgo":
		stop, err = runDiscordgo(api, n, onReady)
	default:
		err = fmt.Errorf("unknown library %q", lib)
	}
	if err != nil {
		r.Err = err.Error()
		return r
	}
	timeout := time.After(5 * time.Minute)
	for i := range n {
		select {
		case <-ready:
		case <-timeout:
			r.Err = fmt.Sprintf("only %d of %d shards READY", i, n)
			return r
		}
	}
	r.ReadyMS = float64(time.Since(start).Milliseconds())
	time.Sleep(idle)
	heap1, rss1, g1 := snapshot()
	r.HeapPerShard = float64(heap1-heap0) / float64(n)
	r.RSSPerShard = float64(rss1-rss0) / float64(n)
	r.GoroutinesPer = float64(g1-g0) / float64(n)
	_ = stop // the process exits; closing a thousand shards is not measured
	return r
}

// snapshot reads the Go heap in use (after two collections, which also
// empty the process's buffer pools), the resident set (after returning
// freed memory to the OS, so that it is what the process holds, not what
// the runtime has yet to give back) and the goroutines.
func snapshot() (heap, rss int64, goroutines int) {
	runtime.GC()
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b, _ := os.ReadFile("/proc/self/statm")
	f := strings.Fields(string(b))
	pages, _ := strconv.ParseInt(f[1], 10, 64)
	return int64(ms.HeapAlloc), pages * int64(os.Getpagesize()), runtime.NumGoroutine()
}

func runIpcord(mode, url string, n int, onReady func()) (func(), error) {
	comp := map[string]gateway.Compression{"none": gateway.CompressNone, "zlib-stream": gateway.CompressZlib, "zstd-stream": gateway.CompressZstd, "zstd-stream-klauspost": gateway.CompressZstd}[mode]
	m, err := shard.NewManager(shard.ManagerConfig{
		Shard: shard.Config{
			Gateway: gateway.Config{Token: "token", URL: url, Compression: comp, Intents: gateway.IntentGuilds, ZstdFastDecoder: mode == "zstd-stream-klauspost"},
			Handler: func(ctx context.Context, ev shard.Event) {
				if ev.Name == "READY" {
					onReady()
				}
			},
		},
		ShardCount: n, MaxConcurrency: n,
	})
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	go m.Run(ctx)
	return cancel, nil
}

func runDisgo(url string, n int, onReady func()) (func(), error) {
	gws := make([]disgogw.Gateway, n)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	sem := make(chan struct{}, 50)
	for i := range n {
		gws[i] = disgogw.New("token",
			func(t disgogw.EventType, _ int, _ int, _ disgogw.EventData) {
				if t == disgogw.EventTypeReady {
					onReady()
				}
			},
			func(disgogw.Gateway, error) {},
			disgogw.WithURL(url), disgogw.WithShardID(i), disgogw.WithShardCount(n),
			disgogw.WithIntents(disgogw.IntentGuilds), disgogw.WithCompress(false),
		)
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if err := gws[i].Open(context.Background()); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return nil, fmt.Errorf("disgo: %w", err)
	}
	return func() {}, nil
}

func runDiscordgo(api string, n int, onReady func()) (func(), error) {
	discordgo.EndpointAPI = api
	discordgo.EndpointGateway = api + "gateway"
	discordgo.EndpointGatewayBot = api + "gateway/bot"
	var wg sync.WaitGroup
	errs := make(chan error, n)
	sem := make(chan struct{}, 50)
	for i := range n {
		s, err := discordgo.New("Bot token")
		if err != nil {
			return nil, err
		}
		s.ShardID, s.ShardCount = i, n
		s.StateEnabled = false
		s.Identify.Intents = discordgo.IntentsGuilds
		s.Identify.Compress = false
		s.AddHandler(func(*discordgo.Session, *discordgo.Ready) { onReady() })
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if err := s.Open(); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return nil, fmt.Errorf("discordgo: %w", err)
	}
	return func() {}, nil
}
