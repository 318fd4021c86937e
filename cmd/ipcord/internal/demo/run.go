package demo

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/ipcord/ipcord/gateway"
	"github.com/ipcord/ipcord/interactions"
	"github.com/ipcord/ipcord/ipc"
	"github.com/ipcord/ipcord/metrics"
	"github.com/ipcord/ipcord/rest"
)

// intents the demo bot asks for: GUILDS and GUILD_MESSAGES, neither
// privileged. Without MESSAGE_CONTENT, real Discord still sends the content
// of messages that mention the bot, which is what the bot answers there.
const intents = gateway.IntentGuilds | gateway.IntentGuildMessages

// GatewayConfig is what the demo gives the constructor of its gateway.
type GatewayConfig struct {
	REST    *rest.Client
	Token   string
	Shards  int // 0 takes Get Gateway Bot's recommendation
	Intents gateway.Intents
	Handler EventHandler
	Logger  *slog.Logger
	// DeployPace is the pause between two shards of a deploy; 0 means
	// 1 s.
	DeployPace time.Duration
	// Metrics and Health, when set, receive the shards' metrics and health
	// check.
	Metrics *metrics.Recorder
	Health  *metrics.Health
}

// Config configures the whole demo. Every zero value works: fake Discord
// with 5 guilds, 2 shards and 2 events/s of traffic, every address on
// 127.0.0.1 with an OS-chosen port (the command line sets its defaults).
type Config struct {
	// Addresses: the fake's REST and control API, its gateway and resume
	// listeners, the bot's IPC server, its discovery listener (the Python
	// libraries' "multicast" port), and the dashboard (which also serves
	// /interactions).
	FakeAddr, GatewayAddr, ResumeAddr, IPCAddr, DiscoveryAddr, DashboardAddr string
	// Guilds, Shards and Traffic size the fake (defaults 5, 2, 2/s; a
	// negative Traffic sends none).
	Guilds  int
	Shards  int
	Traffic float64
	// Secret is the IPC secret (default "demo-secret").
	Secret string
	// PublicKey is the interactions key, 64 hex. Empty makes a demo key
	// pair (its private half is in Info, for `ipcord sign`), or, with a
	// Token, fetches the application's key from Discord.
	PublicKey string
	// Token, when set, connects the bot to real Discord instead of the
	// fake; the interactions endpoint is then served only with PublicURL.
	Token     string
	PublicURL string
	// NewGateway makes the bot's gateway; nil uses the shard Manager.
	NewGateway func(GatewayConfig) (Gateway, error)
	// HeartbeatInterval is the fake gateway's (default 5 s, so latency
	// shows up quickly).
	HeartbeatInterval time.Duration
	// DeployPace is the pause between two shards' moves when the console
	// deploys a new version (default 1 s, so a visitor sees them move).
	DeployPace time.Duration
	// Logger receives the parts' logs; nil is silent.
	Logger *slog.Logger
}

// Info says what runs where.
type Info struct {
	FakeURL         string // empty with a Token
	GatewayURL      string
	IPCURL          string
	DiscoveryAddr   string // host:port for `ipcord call --discover`
	Secret          string
	DashboardURL    string
	MetricsURL      string // the bot's Prometheus metrics; /healthz beside it
	InteractionsURL string // empty when not served
	PublicKey       string
	PrivateKey      string // the demo key's 32-byte seed in hex; empty for a given key
	SampleChannel   string // a channel id to send to
}

// Demo is a running demo: fake Discord, the bot, its IPC server, and the
// dashboard. Close stops it all.
type Demo struct {
	Info Info

	fake     *Fake
	bot      *Bot
	rest     *rest.Client
	ipcSrv   *ipc.Server
	disco    *ipc.Discovery
	dashIPC  *ipc.Client
	ep       *interactions.Endpoint
	httpSrv  *http.Server
	ctlTr    *http.Transport // the dashboard's calls to the fake's control API
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	errMu    sync.Mutex
	botErr   error
	botDone  chan struct{}
	closeOne sync.Once
}

// Start starts every part of the demo and returns once all listen and the
// dashboard's IPC client is connected. The bot's shards connect in the
// background (watch the stats route).
func Start(ctx context.Context, cfg Config) (d *Demo, err error) {
	if cfg.Guilds == 0 {
		cfg.Guilds = 5
	}
	if cfg.Shards == 0 {
		cfg.Shards = 2
	}
	if cfg.Traffic == 0 {
		cfg.Traffic = 2
	}
	if cfg.Secret == "" {
		cfg.Secret = "demo-secret"
	}
	if cfg.HeartbeatInterval == 0 {
		cfg.HeartbeatInterval = 5 * time.Second
	}
	if cfg.NewGateway == nil {
		cfg.NewGateway = NewShardGateway
	}
	d = &Demo{botDone: make(chan struct{})}
	defer func() {
		if err != nil {
			d.Close(context.Background())
			d = nil
		}
	}()

	d.rest = &rest.Client{Token: cfg.Token, HTTPClient: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{}}}
	token := cfg.Token
	if token == "" {
		token = "demo-token"
		d.rest.Token = token
		d.fake, err = StartFake(FakeConfig{
			Addr: cfg.FakeAddr, GatewayAddr: cfg.GatewayAddr, ResumeAddr: cfg.ResumeAddr, Token: token,
			Guilds: cfg.Guilds, Shards: cfg.Shards, Traffic: max(cfg.Traffic, 0), HeartbeatInterval: cfg.HeartbeatInterval,
			Logger: cfg.Logger,
		})
		if err != nil {
			return d, err
		}
		d.rest.BaseURL = d.fake.APIURL()
		d.Info.FakeURL = d.fake.URL()
		d.Info.GatewayURL = d.fake.GatewayURL()
		if gs := d.fake.Guilds(); len(gs) > 0 {
			d.Info.SampleChannel = fmt.Sprint(gs[0].ChannelID)
		}
	}

	// The bot's metrics and health, served beside the dashboard.
	rec, err := metrics.New(metrics.Config{})
	if err != nil {
		return d, err
	}
	health := &metrics.Health{}
	d.bot, err = NewBot(BotConfig{REST: d.rest, Logger: cfg.Logger, Metrics: rec.Registry(), Gateway: func(h EventHandler) (Gateway, error) {
		shards := cfg.Shards
		if cfg.Token != "" {
			shards = 0 // real Discord: its recommendation
		}
		return cfg.NewGateway(GatewayConfig{REST: d.rest, Token: token, Shards: shards,
			Intents: intents, Handler: h, Logger: cfg.Logger, DeployPace: cfg.DeployPace, Metrics: rec, Health: health})
	}})
	if err != nil {
		return d, err
	}

	// The bot's IPC server.
	ipcLn, err := listen(cfg.IPCAddr)
	if err != nil {
		return d, err
	}
	d.ipcSrv = &ipc.Server{Router: d.bot.Router(), Secret: cfg.Secret, Name: "demo-bot", Logger: cfg.Logger, Hooks: d.bot.IPCHooks()}
	if err = rec.IPCServer(d.ipcSrv); err != nil {
		ipcLn.Close()
		return d, err
	}
	d.Info.IPCURL = "ws://" + ipcLn.Addr().String()
	d.Info.Secret = cfg.Secret
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		d.ipcSrv.Serve(ipcLn)
	}()
	discoLn, err := listen(cfg.DiscoveryAddr)
	if err != nil {
		return d, err
	}
	d.disco = &ipc.Discovery{Logger: cfg.Logger}
	if err = d.disco.AddURL(d.ipcSrv, d.Info.IPCURL); err != nil {
		discoLn.Close()
		return d, err
	}
	d.Info.DiscoveryAddr = discoLn.Addr().String()
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		d.disco.Serve(discoLn)
	}()

	// The interactions endpoint holds the bot's listeners for both of
	// Discord's transports: served on the dashboard's listener when
	// Discord can reach it over HTTP, and fed INTERACTION_CREATE from the
	// gateway either way.
	mux := http.NewServeMux()
	serveHTTP := cfg.Token == "" || cfg.PublicURL != ""
	pub := cfg.PublicKey
	if serveHTTP && pub == "" && cfg.Token == "" {
		_, priv, kerr := ed25519.GenerateKey(rand.Reader)
		if kerr != nil {
			return d, kerr
		}
		pub = hex.EncodeToString(priv.Public().(ed25519.PublicKey))
		d.Info.PrivateKey = hex.EncodeToString(priv.Seed())
	}
	icfg := interactions.Config{PublicKey: pub, REST: d.rest, Logger: cfg.Logger, OnError: d.bot.InteractionError}
	rec.Interactions(&icfg)
	d.ep, err = interactions.New(icfg)
	if err != nil {
		return d, err
	}
	if err = d.bot.Register(d.ep); err != nil {
		return d, err
	}
	if serveHTTP {
		d.Info.PublicKey = pub
		if pub == "" {
			d.ep.Prefetch()
		}
		mux.Handle("/interactions", rec.InteractionsHandler(d.ep))
	}

	// The dashboard: an IPC client of the bot, like a separate process.
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	d.dashIPC, err = ipc.Dial(dctx, ipc.ClientConfig{URL: d.Info.IPCURL, Secret: cfg.Secret, Identifier: "dashboard", Logger: cfg.Logger})
	if err != nil {
		return d, fmt.Errorf("demo: dashboard connecting to the bot: %w", err)
	}
	mux.Handle("GET /metrics", rec.Handler())
	mux.Handle("GET /healthz", health)
	d.ctlTr = &http.Transport{}
	mux.Handle("/", &Dashboard{Bot: d.dashIPC, Fake: d.Info.FakeURL, Logger: cfg.Logger,
		Client: &http.Client{Timeout: 10 * time.Second, Transport: d.ctlTr}})
	dashLn, err := listen(cfg.DashboardAddr)
	if err != nil {
		return d, err
	}
	d.Info.DashboardURL = "http://" + dashLn.Addr().String()
	d.Info.MetricsURL = d.Info.DashboardURL + "/metrics"
	if serveHTTP {
		d.Info.InteractionsURL = d.Info.DashboardURL + "/interactions"
		if cfg.PublicURL != "" {
			d.Info.InteractionsURL = cfg.PublicURL
		}
	}
	d.httpSrv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		d.httpSrv.Serve(dashLn)
	}()

	// The bot's shards, last: everything they feed is ready.
	runCtx, runCancel := context.WithCancel(context.Background())
	d.cancel = runCancel
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		defer close(d.botDone)
		if err := d.bot.Run(runCtx); err != nil {
			d.errMu.Lock()
			d.botErr = err
			d.errMu.Unlock()
		}
	}()
	return d, nil
}

func listen(addr string) (net.Listener, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("demo: listen: %w", err)
	}
	return ln, nil
}

// Bot is the demo's bot, for tests.
func (d *Demo) Bot() *Bot { return d.bot }

// Fake is the demo's fake Discord, nil when connected to real Discord.
func (d *Demo) Fake() *Fake { return d.fake }

// Done is closed when the bot's gateway has stopped: after Close, or on its
// own when Discord refused the configuration (see Err).
func (d *Demo) Done() <-chan struct{} { return d.botDone }

// Err returns why the bot's gateway stopped, if it did before Close.
func (d *Demo) Err() error {
	d.errMu.Lock()
	defer d.errMu.Unlock()
	return d.botErr
}

// Close stops the parts in the reverse order of their start: the
// dashboard, the interactions endpoint, the shards, the IPC server, fake
// Discord. It waits for their goroutines, or for ctx to end.
func (d *Demo) Close(ctx context.Context) error {
	var err error
	d.closeOne.Do(func() {
		if d.httpSrv != nil {
			err = errors.Join(err, d.httpSrv.Shutdown(ctx))
		}
		if d.ep != nil {
			err = errors.Join(err, d.ep.Shutdown(ctx))
		}
		if d.dashIPC != nil {
			d.dashIPC.Close()
		}
		if d.cancel != nil {
			d.cancel()
		}
		if d.disco != nil {
			if serr := d.disco.Shutdown(ctx); serr != nil && !errors.Is(serr, ipc.ErrClosed) {
				err = errors.Join(err, serr)
			}
		}
		if d.ipcSrv != nil {
			if serr := d.ipcSrv.Shutdown(ctx); serr != nil && !errors.Is(serr, ipc.ErrClosed) {
				err = errors.Join(err, serr)
			}
		}
		done := make(chan struct{})
		go func() { d.wg.Wait(); close(done) }()
		select {
		case <-done:
		case <-ctx.Done():
			err = errors.Join(err, ctx.Err())
		}
		if d.fake != nil {
			err = errors.Join(err, d.fake.Close())
		}
		if d.rest != nil {
			d.rest.HTTPClient.CloseIdleConnections()
		}
		if d.ctlTr != nil {
			d.ctlTr.CloseIdleConnections()
		}
	})
	return err
}
