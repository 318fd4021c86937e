package demo

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/ipcord/ipcord/discord"
	"github.com/ipcord/ipcord/discordtest"
	"github.com/ipcord/ipcord/metrics"
)

// BotUserID is the fake's bot user: READY's user and the author of the
// messages the bot creates through REST.
const BotUserID = 1000000000000000001

// FakeConfig configures a Fake; the zero value is a one-shard fake with
// three sample guilds, no background traffic, on OS-chosen ports.
type FakeConfig struct {
	// Addr serves REST (under /api/v10 and /api/v9) and the control API
	// (/_fake/...); GatewayAddr the gateway; ResumeAddr the gateway's
	// resume_gateway_url. Empty means 127.0.0.1:0.
	Addr, GatewayAddr, ResumeAddr string
	// Token, when set, is the only bot token REST and the gateway accept.
	Token string
	// Guilds is the number of sample guilds (default 3; negative means none).
	Guilds int
	// Shards is the shard count Get Gateway Bot recommends (default 1).
	Shards int
	// MaxConcurrency is the number of identify buckets, in Get Gateway
	// Bot's session_start_limit and enforced by the gateway (one IDENTIFY
	// per bucket per 5 s); zero means Shards, so every shard may identify
	// at once.
	MaxConcurrency int
	// SessionStarts is session_start_limit's total, the IDENTIFYs allowed
	// per day; zero means 1000, or 10 per shard when that is more.
	// SessionStartsLeft is its remaining at start (zero means all of it);
	// set it below a bot's reserve to test the bot's budget guard.
	SessionStarts, SessionStartsLeft int
	// SessionTimeout is how long a session stays resumable without a
	// connection (see discordtest.Gateway.SessionTimeout).
	SessionTimeout time.Duration
	// Traffic is the rate of background MESSAGE_CREATE events, per second,
	// spread over the sample guilds; 0 sends none.
	Traffic float64
	// HeartbeatInterval is sent in HELLO; zero means Discord's 41.25 s.
	HeartbeatInterval time.Duration
	// ControlToken, when set, is required of the control API as
	// "Authorization: Bearer <ControlToken>" (else 401). Empty leaves it
	// open, which suits the default loopback address; set it when the
	// fake listens where others can reach it.
	ControlToken string
	// Logger receives the fake gateway's debug logs; nil is silent.
	Logger *slog.Logger
}

// Fake is discordtest's fake Discord run as a service: the gateway, the
// REST routes ipcord uses, background traffic, and a control API so that
// scripts in any language can dispatch events, inject faults and read what
// clients sent.
type Fake struct {
	cfg     FakeConfig
	rest    *discordtest.Server
	gw      *discordtest.Gateway
	guilds  []SampleGuild
	byChan  map[uint64]uint64 // channel id -> guild id
	front   *http.Server
	ln      net.Listener
	proxy   *httputil.ReverseProxy
	tr      *http.Transport
	metrics *fakeMetrics
	stop    chan struct{}
	wg      sync.WaitGroup
	closeMu sync.Mutex
	closed  bool
}

// StartFake starts a Fake: it binds every listener before returning.
func StartFake(cfg FakeConfig) (*Fake, error) {
	if cfg.Guilds == 0 {
		cfg.Guilds = 3
	}
	if cfg.Shards <= 0 {
		cfg.Shards = 1
	}
	if cfg.MaxConcurrency <= 0 {
		cfg.MaxConcurrency = cfg.Shards
	}
	if cfg.SessionStarts <= 0 {
		cfg.SessionStarts = max(1000, 10*cfg.Shards)
	}
	if cfg.SessionStartsLeft <= 0 || cfg.SessionStartsLeft > cfg.SessionStarts {
		cfg.SessionStartsLeft = cfg.SessionStarts
	}
	f := &Fake{cfg: cfg, guilds: SampleGuilds(max(cfg.Guilds, 0)), byChan: map[uint64]uint64{}, stop: make(chan struct{})}
	f.metrics = newFakeMetrics(f)
	var guildJSON []json.RawMessage
	for _, g := range f.guilds {
		guildJSON = append(guildJSON, g.JSON())
		f.byChan[g.ChannelID] = g.ID
	}
	var err error
	f.rest, err = discordtest.NewServer(&discordtest.ServerOptions{
		Token:       cfg.Token,
		Application: discord.Application{ID: BotUserID, Name: "ipcord-demo"},
		GatewayBot: discord.GatewayBot{Shards: cfg.Shards, SessionStartLimit: discord.SessionStartLimit{
			Total: cfg.SessionStarts, Remaining: cfg.SessionStartsLeft, ResetAfter: 86400000, MaxConcurrency: cfg.MaxConcurrency,
		}},
		MaxRecorded: maxRecorded,
	})
	if err != nil {
		return nil, err
	}
	f.gw = &discordtest.Gateway{
		Addr: cfg.GatewayAddr, ResumeAddr: cfg.ResumeAddr, Token: cfg.Token, Shards: 1, MaxConcurrency: cfg.MaxConcurrency,
		SessionTimeout:    cfg.SessionTimeout,
		HeartbeatInterval: cfg.HeartbeatInterval, Server: f.rest, Guilds: guildJSON,
		UserID: BotUserID, Logger: cfg.Logger, MaxRecorded: maxRecorded,
	}
	if err := f.gw.Start(); err != nil {
		f.rest.Close()
		return nil, fmt.Errorf("demo: fake gateway: %w", err)
	}
	gb := f.rest.GatewayBot()
	gb.URL = f.gw.URL()
	f.rest.SetGatewayBot(gb)

	addr := cfg.Addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	if f.ln, err = net.Listen("tcp", addr); err != nil {
		f.gw.Close()
		f.rest.Close()
		return nil, fmt.Errorf("demo: fake listen: %w", err)
	}
	backend, _ := url.Parse(strings.TrimSuffix(f.rest.URL, "/api/v10"))
	f.tr = &http.Transport{MaxIdleConnsPerHost: 16, IdleConnTimeout: 30 * time.Second}
	f.proxy = &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(backend)
			r.Out.Host = r.In.Host
		},
		Transport: f.tr,
		// The default handler logs through the log package; the fake is
		// silent unless given a Logger.
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			if cfg.Logger != nil {
				cfg.Logger.Debug("demo: fake REST proxy", "path", r.URL.Path, "err", err)
			}
			w.WriteHeader(http.StatusBadGateway)
		},
	}
	f.front = &http.Server{Handler: f.routes(), ReadHeaderTimeout: 10 * time.Second}
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		f.front.Serve(f.ln)
	}()
	if cfg.Traffic > 0 {
		f.wg.Add(1)
		go f.traffic()
	}
	return f, nil
}

// maxRecorded bounds what the fake keeps of its clients' traffic for GET
// /_fake/sent: it may run for days.
const maxRecorded = 10000

// URL is the fake's base URL ("http://127.0.0.1:7878"): REST lives under
// URL+"/api/v10" (and /api/v9), the control API under URL+"/_fake/".
func (f *Fake) URL() string { return "http://" + f.ln.Addr().String() }

// APIURL is the REST root to give rest.Client.BaseURL.
func (f *Fake) APIURL() string { return f.URL() + "/api/v10" }

// GatewayURL is the gateway URL that Get Gateway Bot reports.
func (f *Fake) GatewayURL() string { return f.gw.URL() }

// Gateway is the underlying fake gateway, for Go tests that want its API.
func (f *Fake) Gateway() *discordtest.Gateway { return f.gw }

// REST is the underlying fake REST server, for Go tests that want its API.
func (f *Fake) REST() *discordtest.Server { return f.rest }

// Guilds returns the sample guilds.
func (f *Fake) Guilds() []SampleGuild { return append([]SampleGuild(nil), f.guilds...) }

// Close stops the traffic, the listeners and every connection, and waits
// for the Fake's goroutines.
func (f *Fake) Close() error {
	f.closeMu.Lock()
	if f.closed {
		f.closeMu.Unlock()
		return nil
	}
	f.closed = true
	f.closeMu.Unlock()
	close(f.stop)
	err := f.front.Close()
	f.wg.Wait()
	f.tr.CloseIdleConnections()
	err = errors.Join(err, f.gw.Close(), f.rest.Close())
	return err
}

// routes is the fake's front: REST (v9 rewritten to v10, GET /gateway
// answered here, the rest proxied to discordtest.Server) and the control API.
func (f *Fake) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /_fake/dispatch", f.control(f.handleDispatch))
	mux.HandleFunc("POST /_fake/flood", f.control(f.handleFlood))
	mux.HandleFunc("POST /_fake/message", f.control(f.handleMessage))
	mux.HandleFunc("POST /_fake/command", f.control(f.handleCommand))
	mux.HandleFunc("POST /_fake/fault", f.control(f.handleFault))
	mux.HandleFunc("GET /_fake/sent", f.control(f.handleSent))
	mux.HandleFunc("GET /_fake/session_start_limit", f.control(f.handleStartLimit))
	mux.HandleFunc("POST /_fake/session_start_limit", f.control(f.handleStartLimit))
	mux.HandleFunc("GET /_fake/", f.control(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{
			"rest": f.APIURL(), "gateway": f.GatewayURL(), "resume_gateway": f.gw.ResumeURL(),
			"guilds": f.guildList(), "users": userList(), "bot_id": fmt.Sprint(BotUserID),
		})
	}))
	mux.Handle("GET /metrics", f.metrics.handler())
	mux.Handle("GET /healthz", &metrics.Health{})
	mux.Handle("/", f.metrics.countREST(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// discordgo and other libraries still default to v9; the routes
		// we serve are the same in both.
		if rest, ok := strings.CutPrefix(r.URL.Path, "/api/v9/"); ok {
			r.URL.Path = "/api/v10/" + rest
			r.URL.RawPath = ""
		}
		f.proxy.ServeHTTP(w, r)
	})))
	return mux
}

// traffic dispatches MESSAGE_CREATE events from sample users at the
// configured rate until Close. Events for a shard without a session are
// dropped, as nothing would receive them.
func (f *Fake) traffic() {
	defer f.wg.Done()
	if len(f.guilds) == 0 {
		return
	}
	every := time.Duration(float64(time.Second) / f.cfg.Traffic)
	every = max(every, time.Millisecond)
	t := time.NewTicker(every)
	defer t.Stop()
	rng := rand.New(rand.NewPCG(1, 2))
	// A ticker drops ticks when the machine is busy: each tick sends what
	// is owed since the start, so the rate holds.
	start := time.Now()
	var sent uint64
	for {
		select {
		case <-f.stop:
			return
		case <-t.C:
		}
		owed := uint64(time.Since(start).Seconds()*f.cfg.Traffic) - sent
		for range min(owed, 1000) {
			sent++
			g := f.guilds[rng.IntN(len(f.guilds))]
			u := sampleUsers[rng.IntN(len(sampleUsers))]
			if _, err := f.rest.SendMessage(g.ChannelID, u.ID, sampleLines[rng.IntN(len(sampleLines))]); err == nil {
				f.metrics.messages.Inc()
			}
		}
	}
}

func (f *Fake) guildList() []map[string]any {
	out := make([]map[string]any, len(f.guilds))
	for i, g := range f.guilds {
		out[i] = map[string]any{"id": fmt.Sprint(g.ID), "name": g.Name, "channel_id": fmt.Sprint(g.ChannelID)}
	}
	return out
}

func userList() []map[string]any {
	out := make([]map[string]any, len(sampleUsers))
	for i, u := range sampleUsers {
		out[i] = map[string]any{"id": fmt.Sprint(u.ID), "username": u.Name}
	}
	return out
}

// control guards a control API handler with FakeConfig.ControlToken.
func (f *Fake) control(h http.HandlerFunc) http.HandlerFunc {
	if f.cfg.ControlToken == "" {
		return h
	}
	want := []byte("Bearer " + f.cfg.ControlToken)
	return func(w http.ResponseWriter, r *http.Request) {
		if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), want) != 1 {
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "the control API needs Authorization: Bearer <control token>"})
			return
		}
		h(w, r)
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
