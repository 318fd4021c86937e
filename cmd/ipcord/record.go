package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/ipcord/ipcord/discordtest"
	"github.com/ipcord/ipcord/gateway"
	"github.com/ipcord/ipcord/gateway/shard"
	"github.com/ipcord/ipcord/rest"
)

func init() {
	register(&command{name: "record", summary: "record the dispatches a bot receives, for ipcord fake --replay", run: runRecord})
}

// runRecord connects as a bot (to Discord with $DISCORD_TOKEN, or to a
// fake) and writes every dispatch its shards receive to a file, one JSON
// object per line, with tokens redacted, until interrupted, --duration
// passes or --count events are written.
func runRecord(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "record", "--out FILE (--fake URL | DISCORD_TOKEN=...) [--duration D] [--count N] [--intents N]")
	out := fs.String("out", "", "file to write (JSON lines)")
	fake := fs.String("fake", "", "base URL of an ipcord fake (http://127.0.0.1:7878); without it, Discord with $DISCORD_TOKEN")
	duration := fs.Duration("duration", 0, "stop after this long (default: until interrupted)")
	count := fs.Int("count", 0, "stop after this many events (default: no limit)")
	intents := fs.Int64("intents", int64(gateway.IntentGuilds|gateway.IntentGuildMessages|gateway.IntentGuildMembers), "gateway intents")
	pos, err := fs.Parse(args)
	if err != nil {
		return err
	}
	token := e.getenv("DISCORD_TOKEN")
	switch {
	case len(pos) > 0:
		return fs.Fail("unexpected argument %q", pos[0])
	case *out == "":
		return fs.Fail("missing --out FILE")
	case *duration < 0 || *count < 0:
		return fs.Fail("--duration and --count cannot be negative")
	case *fake == "" && token == "":
		return fs.Fail("give --fake URL, or set DISCORD_TOKEN to record from Discord")
	}
	rc := &rest.Client{Token: token, HTTPClient: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{}}}
	defer rc.HTTPClient.CloseIdleConnections()
	if *fake != "" {
		rc.BaseURL = strings.TrimSuffix(*fake, "/") + "/api/v10"
		if rc.Token == "" {
			rc.Token = "ipcord-record"
		}
	}
	f, err := os.Create(*out)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	if *duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *duration)
		defer cancel()
	}
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	var mu sync.Mutex
	written, start := 0, time.Now()
	m, err := shard.NewManager(shard.ManagerConfig{
		REST: rc,
		Shard: shard.Config{
			Gateway: gateway.Config{Token: rc.Token, Intents: gateway.Intents(*intents)},
			Handler: func(_ context.Context, ev shard.Event) {
				mu.Lock()
				defer mu.Unlock()
				if *count > 0 && written >= *count {
					return
				}
				line, err := json.Marshal(discordtest.RecordedEvent{
					Shard: ev.Shard, T: ev.Name, D: redact(ev.Data), AtMS: time.Since(start).Milliseconds(),
				})
				if err == nil {
					w.Write(append(line, '\n'))
					written++
				}
				if *count > 0 && written >= *count {
					stop()
				}
			},
		},
	})
	if err != nil {
		f.Close()
		return err
	}
	fmt.Fprintf(e.stderr, "ipcord record: writing dispatches to %s\n", *out)
	runErr := m.Run(ctx)
	mu.Lock()
	defer mu.Unlock()
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "ipcord record: %d events\n", written)
	if ctx.Err() != nil {
		return nil // the end asked for: a signal, --duration or --count
	}
	return runErr
}

// redact replaces the value of every "token" key (interaction tokens
// answer for the bot for 15 minutes) so a recording can be shared.
func redact(data json.RawMessage) json.RawMessage {
	if !strings.Contains(string(data), `"token"`) {
		return data
	}
	var v any
	if json.Unmarshal(data, &v) != nil {
		return data
	}
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, val := range x {
				if k == "token" {
					x[k] = "[redacted]"
					continue
				}
				walk(val)
			}
		case []any:
			for _, val := range x {
				walk(val)
			}
		}
	}
	walk(v)
	b, err := json.Marshal(v)
	if err != nil {
		return data
	}
	return b
}
