package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/ipcord/ipcord/cmd/ipcord/internal/demo"
	"github.com/ipcord/ipcord/rest"
)

func init() {
	register(&command{name: "bot", summary: "run the demo's sample bot as its own process; --take-over deploys a new generation with no lost event; --nats --fleet joins a fleet", run: runBot})
}

// runBot runs the sample bot against `ipcord fake` (or Discord with
// DISCORD_TOKEN), serving its IPC routes; with --take-over it takes every
// shard from the running generation, which then exits; with --nats and
// --fleet it is a member of a fleet sharing the shards over NATS.
func runBot(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "bot", "(--fake URL | DISCORD_TOKEN=...) --secret S [--ipc-addr 127.0.0.1:0] [--shards N] [--take-over ws://OLD_IPC_ADDR | --nats URL --fleet NAME [--cluster MEMBER] [--dedupe]] [--journal FILE] [--metrics-addr HOST:PORT]")
	fake := fs.String("fake", "", "base URL of an ipcord fake (http://127.0.0.1:7878); without it, real Discord with $DISCORD_TOKEN")
	ipcAddr := fs.String("ipc-addr", "127.0.0.1:0", "address of the bot's IPC server (its routes and the handoff routes)")
	sec := fs.String("secret", "", "the IPC secret (default $IPCORD_SECRET)")
	shards := fs.Int("shards", 0, "shard count (default: Get Gateway Bot's recommendation)")
	takeOver := fs.String("take-over", "", "IPC URL of the running generation to take every shard from (a deploy)")
	parallel := fs.Int("parallel", 1, "with --take-over: shards moved at once")
	lend := fs.Duration("lend-timeout", 0, "how long a shard released to a successor waits for it before this process resumes it again (default 15s)")
	reserve := fs.Int("identify-reserve", 0, "session starts never spent: an IDENTIFY that would leave fewer is refused")
	journal := fs.String("journal", "", "append one line per handled event, \"shard seq name pid generation\", to this file")
	verbose := fs.Bool("v", false, "log at debug level to stderr (default: warnings)")
	metricsAddr := fs.String("metrics-addr", "", metricsAddrUsage)
	nf := addNATSFlags(fs, "with --fleet: this member's name in the fleet (default bot-PID)")
	fleet := fs.String("fleet", "", "with --nats: join the fleet of this name, which shares the shards between its members")
	leaseTTL := fs.Duration("lease-ttl", 0, "with --fleet: how long a killed member's shards wait for the others (default 3s)")
	ckpt := fs.Duration("checkpoint-interval", 0, "with --fleet: the longest a shard's checkpoint lags behind its events (default 250ms)")
	dedupe := fs.Bool("dedupe", false, "with --fleet: resume a killed member's shards after the last event handled (marked in --journal, shared by the members, or else in NATS)")
	pos, err := fs.Parse(args)
	if err != nil {
		return err
	}
	switch {
	case len(pos) > 0:
		return fs.Fail("unexpected argument %q", pos[0])
	case *shards < 0:
		return fs.Fail("--shards %d: want at least 1", *shards)
	case *parallel < 1:
		return fs.Fail("--parallel %d: want at least 1", *parallel)
	case *takeOver != "" && !strings.HasPrefix(*takeOver, "ws://") && !strings.HasPrefix(*takeOver, "wss://"):
		return fs.Fail("--take-over %q: want the ws:// URL of the running bot's IPC server", *takeOver)
	case (*nf.url == "") != (*fleet == ""):
		return fs.Fail("--nats and --fleet go together")
	case *fleet != "" && *takeOver != "":
		return fs.Fail("--take-over and --fleet exclude each other: a fleet member takes its shards from the fleet")
	case *fleet == "" && (*dedupe || *leaseTTL != 0 || *ckpt != 0 || *nf.cluster != ""):
		return fs.Fail("--dedupe, --lease-ttl, --checkpoint-interval and --cluster need --fleet")
	case *leaseTTL < 0 || *ckpt < 0 || *lend < 0:
		return fs.Fail("--lease-ttl, --checkpoint-interval and --lend-timeout cannot be negative")
	}
	s, err := secretFrom(e, *sec)
	if err != nil {
		return err
	}
	rc := &rest.Client{Token: e.getenv("DISCORD_TOKEN"), HTTPClient: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{}}}
	defer rc.HTTPClient.CloseIdleConnections()
	if *fake != "" {
		rc.BaseURL = strings.TrimSuffix(*fake, "/") + "/api/v10"
		if rc.Token == "" {
			rc.Token = "ipcord-bot"
		}
	} else if rc.Token == "" {
		return fs.Fail("give --fake URL, or set DISCORD_TOKEN to run against Discord")
	}
	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelDebug
	}
	cfg := demo.ProcessConfig{
		REST: rc, Shards: *shards, IPCAddr: *ipcAddr, Secret: s, TakeOver: *takeOver, Parallel: *parallel, LendTimeout: *lend,
		IdentifyReserve: *reserve, Out: e.stdout,
		Logger: slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: level})),
	}
	o, err := newOps()
	if err != nil {
		return err
	}
	cfg.Metrics, cfg.Health = o.rec, o.health
	stopOps, err := o.serve(e, *metricsAddr)
	if err != nil {
		return err
	}
	defer stopOps()
	cfg.JournalPath = *journal
	if *fleet != "" {
		member := *nf.cluster
		if member == "" {
			member = "bot-" + strconv.Itoa(os.Getpid())
		}
		nc, err := nf.dial(member)
		if err != nil {
			return err
		}
		defer nc.Close()
		cfg.Fleet = &demo.FleetConfig{Conn: nc, Prefix: *nf.prefix, Name: *fleet, Member: member,
			LeaseTTL: *leaseTTL, CheckpointInterval: *ckpt, Dedupe: *dedupe}
	}
	if err := demo.RunProcess(ctx, cfg); err != nil {
		return fmt.Errorf("bot: %w", err)
	}
	return nil
}
