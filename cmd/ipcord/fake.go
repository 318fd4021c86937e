package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"

	"github.com/ipcord/ipcord/cmd/ipcord/internal/demo"
	"github.com/ipcord/ipcord/discordtest"
)

func init() {
	register(&command{name: "fake", summary: "run a fake Discord (gateway, REST, control API) for offline bots", run: runFake})
}

// runFake serves discordtest's fake Discord until interrupted, so bots in
// any language can be run offline against it.
func runFake(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "fake", "[--addr 127.0.0.1:7878] [--token T] [--control-token T] [--guilds N] [--shards N] [--max-concurrency N] [--traffic N/s]")
	listen := fs.String("addr", "127.0.0.1:7878", "address of REST (/api/v10, /api/v9) and the control API (/_fake/)")
	fs.StringVar(listen, "listen", "127.0.0.1:7878", "same as --addr (its former name)")
	gwAddr := fs.String("gateway-addr", "127.0.0.1:0", "address of the gateway")
	resumeAddr := fs.String("resume-addr", "127.0.0.1:0", "address of the gateway's resume_gateway_url")
	token := fs.String("token", "", "the only bot token accepted (default: any)")
	controlToken := fs.String("control-token", "", "require \"Authorization: Bearer T\" on the control API (/_fake/)")
	guilds := fs.Int("guilds", 3, "number of sample guilds")
	shards := fs.Int("shards", 1, "shard count Get Gateway Bot recommends")
	maxConc := fs.Int("max-concurrency", 0, "identify buckets (one IDENTIFY per bucket per 5 s) (default: --shards, all at once)")
	starts := fs.Int("session-starts", 0, "IDENTIFYs allowed per day, session_start_limit.total (default 1000, or 10 per shard)")
	startsLeft := fs.Int("session-starts-left", 0, "session_start_limit.remaining at start (default: all)")
	sessTimeout := fs.Duration("session-timeout", 0, "how long a session without a connection stays resumable (default 3m)")
	traffic := fs.String("traffic", "0", "background MESSAGE_CREATE events per second, like 5 or 5/s")
	hb := fs.Duration("heartbeat", 0, "heartbeat interval sent in HELLO (default Discord's 41.25s)")
	replay := fs.String("replay", "", "serve the dispatches of a recording (ipcord record --out FILE) to the bots that connect")
	speed := fs.String("speed", "1x", "the replay's speed: 10x keeps a tenth of the recorded spacing, 0x none")
	pos, err := fs.Parse(args)
	if err != nil {
		return err
	}
	rate, rerr := parseRate(*traffic)
	pace, perr := parseSpeed(*speed)
	if rerr == nil {
		rerr = perr
	}
	switch {
	case len(pos) > 0:
		return fs.Fail("unexpected argument %q", pos[0])
	case rerr != nil:
		return fs.Fail("%v", rerr)
	case *shards < 1:
		return fs.Fail("--shards %d: want at least 1", *shards)
	case *guilds < 0 || *maxConc < 0 || *starts < 0 || *startsLeft < 0 || *sessTimeout < 0:
		return fs.Fail("--guilds, --max-concurrency, --session-starts, --session-starts-left and --session-timeout cannot be negative")
	}
	if *guilds == 0 {
		*guilds = -1 // FakeConfig's zero means the default
	}
	f, err := demo.StartFake(demo.FakeConfig{
		Addr: *listen, GatewayAddr: *gwAddr, ResumeAddr: *resumeAddr, Token: *token,
		Guilds: *guilds, Shards: *shards, Traffic: rate, HeartbeatInterval: *hb,
		ControlToken: *controlToken, MaxConcurrency: *maxConc, SessionStarts: *starts, SessionStartsLeft: *startsLeft,
		SessionTimeout: *sessTimeout,
	})
	if err != nil {
		return err
	}
	u := f.URL()
	if *controlToken == "" && !loopback(*listen) {
		fmt.Fprintf(e.stderr, "ipcord fake: warning: the control API on %s is open to anyone who can reach it; set --control-token\n", *listen)
	}
	fmt.Fprintf(e.stdout, "ipcord fake: a fake Discord, offline\n")
	fmt.Fprintf(e.stdout, "  REST      %s/api/v10 (and /api/v9)\n", u)
	fmt.Fprintf(e.stdout, "  gateway   %s (resume on %s)\n", f.GatewayURL(), f.Gateway().ResumeURL())
	fmt.Fprintf(e.stdout, "  guilds    %d on %d shard(s), %g events/s of traffic\n", len(f.Guilds()), *shards, rate)
	fmt.Fprintf(e.stdout, "  control   POST %s/_fake/dispatch  {\"t\":\"EVENT\",\"d\":{...},\"shard\":0}\n", u)
	fmt.Fprintf(e.stdout, "            POST %s/_fake/flood     {\"shard\":0,\"count\":100000,\"events\":[{\"t\":\"EVENT\",\"d\":{...}}]} (as fast as the bot reads)\n", u)
	fmt.Fprintf(e.stdout, "            POST %s/_fake/fault     {\"name\":\"reconnect\",\"shard\":0}\n", u)
	fmt.Fprintf(e.stdout, "            POST %s/_fake/message   {\"channel_id\":\"...\",\"content\":\"!ping\"} (as a sample user)\n", u)
	fmt.Fprintf(e.stdout, "            GET  %s/_fake/sent\n", u)
	fmt.Fprintf(e.stdout, "            POST %s/_fake/session_start_limit {\"remaining\":2}\n", u)
	fmt.Fprintf(e.stdout, "  metrics   %s/metrics, health %s/healthz\n", u, u)
	for _, g := range f.Guilds() {
		fmt.Fprintf(e.stdout, "  guild %d %q, channel %d\n", g.ID, g.Name, g.ChannelID)
	}
	if *replay != "" {
		rf, err := os.Open(*replay)
		if err != nil {
			f.Close()
			return err
		}
		evs, err := discordtest.ReadRecording(rf)
		rf.Close()
		if err != nil {
			f.Close()
			return err
		}
		fmt.Fprintf(e.stdout, "  replay    %d events from %s at %gx, once their shards connect\n", len(evs), *replay, pace)
		go func() {
			if err := f.Gateway().Replay(ctx, evs, pace); err != nil && ctx.Err() == nil {
				fmt.Fprintf(e.stderr, "ipcord fake: replay: %v\n", err)
			}
		}()
	}
	<-ctx.Done()
	return f.Close()
}

// parseSpeed reads a replay speed: "10x", "0.5x" or "10"; 0 replays
// without waiting.
func parseSpeed(s string) (float64, error) {
	n, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(s), "x"), 64)
	if err != nil || n < 0 || n > 1e6 {
		return 0, fmt.Errorf("--speed %q is not a speed like 10x", s)
	}
	return n, nil
}

// parseRate reads "5", "5/s" or "0.5/s".
func parseRate(s string) (float64, error) {
	n, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(s), "/s"), 64)
	if err != nil || n < 0 || n > 10000 {
		return 0, fmt.Errorf("--traffic %q is not a rate from 0 to 10000 per second", s)
	}
	return n, nil
}

// loopback reports whether addr (host:port) binds only the loopback
// interface.
func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
