package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/ipcord/ipcord/cmd/ipcord/internal/demo"
)

func init() {
	register(&command{name: "demo", summary: "run fake Discord, a sharded bot, its IPC server and a live dashboard, offline", run: runDemo})
}

// runDemo starts the whole toolkit in one process — parts that talk only
// through the real protocols — prints what runs where, and stops it all on
// Ctrl-C.
func runDemo(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "demo", "[--dashboard-addr 127.0.0.1:8080] [--ipc-addr 127.0.0.1:8765] [--fake-addr 127.0.0.1:7878] ...")
	var cfg demo.Config
	fs.StringVar(&cfg.DashboardAddr, "dashboard-addr", "127.0.0.1:8080", "address of the dashboard and /interactions")
	fs.StringVar(&cfg.IPCAddr, "ipc-addr", "127.0.0.1:8765", "address of the bot's IPC server")
	fs.StringVar(&cfg.DiscoveryAddr, "discovery-addr", "127.0.0.1:20000", "address of the bot's discovery listener (the Python libraries' multicast port)")
	fs.StringVar(&cfg.FakeAddr, "fake-addr", "127.0.0.1:7878", "address of fake Discord's REST and control API")
	fs.StringVar(&cfg.GatewayAddr, "gateway-addr", "127.0.0.1:0", "address of fake Discord's gateway")
	fs.StringVar(&cfg.ResumeAddr, "resume-addr", "127.0.0.1:0", "address of fake Discord's resume gateway")
	fs.IntVar(&cfg.Guilds, "guilds", 5, "sample guilds in fake Discord")
	fs.IntVar(&cfg.Shards, "shards", 2, "shards the bot runs")
	traffic := fs.String("traffic", "2/s", "background events per second in fake Discord")
	fs.StringVar(&cfg.Secret, "secret", "", "the IPC secret (default $IPCORD_SECRET, else demo-secret)")
	fs.StringVar(&cfg.PublicKey, "public-key", "", "interactions public key, 64 hex (default $IPCORD_PUBLIC_KEY, else a demo key pair, printed)")
	fs.StringVar(&cfg.PublicURL, "public-url", "", "with DISCORD_TOKEN: the public URL of /interactions, which enables it")
	verbose := fs.Bool("v", false, "log at debug level to stderr")
	pos, err := fs.Parse(args)
	if err != nil {
		return err
	}
	rate, rerr := parseRate(*traffic)
	switch {
	case len(pos) > 0:
		return fs.Fail("unexpected argument %q", pos[0])
	case rerr != nil:
		return fs.Fail("%v", rerr)
	case cfg.Shards < 1:
		return fs.Fail("--shards %d: want at least 1", cfg.Shards)
	case cfg.Guilds < 1:
		return fs.Fail("--guilds %d: want at least 1", cfg.Guilds)
	}
	cfg.Traffic = rate
	if rate == 0 {
		cfg.Traffic = -1 // Config's zero means the default
	}
	cfg.Token = e.getenv("DISCORD_TOKEN")
	if cfg.Secret == "" {
		cfg.Secret = cmp.Or(e.getenv("IPCORD_SECRET"), "demo-secret")
	}
	if cfg.PublicKey == "" {
		cfg.PublicKey = e.getenv("IPCORD_PUBLIC_KEY")
	}
	if *verbose {
		cfg.Logger = slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	d, err := demo.Start(ctx, cfg)
	if err != nil {
		return err
	}
	printDemo(e.stdout, d.Info, cfg)
	select {
	case <-ctx.Done():
	case <-d.Done():
		// The shards gave up (a bad token, say): nothing left to show.
	}
	sctx, cancel := context.WithTimeout(context.Background(), stopTimeout)
	defer cancel()
	fmt.Fprintln(e.stdout, "\nstopping…")
	if err := errors.Join(d.Err(), d.Close(sctx)); err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, "stopped")
	return nil
}

// stopTimeout bounds a graceful stop after Ctrl-C.
const stopTimeout = 10 * time.Second

// samplePing is the interaction the printed curl sends: /ping from a user.
const samplePing = `{"id":"1300000000000000000","application_id":"1000000000000000001","type":2,"token":"demo","version":1,` +
	`"data":{"id":"1","name":"ping","type":1},"member":{"user":{"id":"42","username":"you"},"roles":[]}}`

func printDemo(w io.Writer, in demo.Info, cfg demo.Config) {
	p := func(format string, a ...any) { fmt.Fprintf(w, format+"\n", a...) }
	if in.FakeURL != "" {
		p("ipcord demo: offline, every part on 127.0.0.1, talking only through the real protocols")
		p("")
		p("  fake Discord  REST %s/api/v10, gateway %s", in.FakeURL, in.GatewayURL)
		p("                %d guilds, %g events/s of traffic, control API at %s/_fake/", cfg.Guilds, max(cfg.Traffic, 0), in.FakeURL)
	} else {
		p("ipcord demo: connected to real Discord with DISCORD_TOKEN (intents GUILDS | GUILD_MESSAGES; mention the bot to get an answer)")
		p("")
	}
	p("  bot           %d shard(s); !ping and /ping; IPC server %s (secret %q)", cfg.Shards, in.IPCURL, in.Secret)
	p("                speaks ipcord.v1 and the Python IPC libraries' protocols; discovery on %s", in.DiscoveryAddr)
	p("                routes: stats, guilds, events, send_message")
	p("  dashboard     %s (an IPC client of the bot)", in.DashboardURL)
	p("                the bot's metrics %s, health %s/healthz", in.MetricsURL, in.DashboardURL)
	if in.InteractionsURL != "" {
		key := in.PublicKey
		if key == "" {
			key = "fetched from Discord"
		}
		p("  interactions  %s, public key %s", in.InteractionsURL, key)
		if in.PrivateKey != "" {
			p("                demo private key %s", in.PrivateKey)
		}
	}
	p("")
	p("Try:")
	p("  1. open %s", in.DashboardURL)
	p("  2. go run ./cmd/ipcord call --url %s --secret %s stats", in.IPCURL, in.Secret)
	p("     (or find it: go run ./cmd/ipcord call --discover %s --secret %s guilds)", in.DiscoveryAddr, in.Secret)
	if in.PrivateKey != "" {
		p("  3. a signed interaction, as Discord sends it:")
		p("     body='%s'", samplePing)
		p("     curl -s %s -H 'Content-Type: application/json' \\", in.InteractionsURL)
		p("       $(go run ./cmd/ipcord sign --private-key %s --body \"$body\" | sed 's/: /:/; s/^/-H /') -d \"$body\"", in.PrivateKey)
	}
	p("")
	p("Ctrl-C stops everything.")
}
