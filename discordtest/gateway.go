package discordtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/ipcord/ipcord/internal/wsproto"
)

// Errors returned by the Gateway's Go API.
var (
	// ErrGatewayStarted is returned by Start on a Gateway already started.
	ErrGatewayStarted = errors.New("discordtest: gateway already started")
	// ErrGatewayNotStarted is returned by calls that need a running Gateway.
	ErrGatewayNotStarted = errors.New("discordtest: gateway not started")
	// ErrGatewayClosed is returned once Close has been called.
	ErrGatewayClosed = errors.New("discordtest: gateway closed")
	// ErrNoSession is returned when a shard (or a guild's shard) has no session.
	ErrNoSession = errors.New("discordtest: no session for shard")
	// ErrNoConnection is returned by a fault aimed at a shard with no live connection.
	ErrNoConnection = errors.New("discordtest: no live connection for shard")
	// ErrBadGuild is returned for a sample guild that is not a JSON object with a snowflake "id".
	ErrBadGuild = errors.New("discordtest: bad sample guild")
)

// SessionStarts is what the Gateway asks before an IDENTIFY starts a new
// session. discordtest.Server implements it, so the budget that Get Gateway
// Bot reports is the one the gateway spends.
type SessionStarts interface {
	// ConsumeSessionStart takes one session start from the budget and
	// reports whether one was left. The Gateway calls it with its own lock
	// held, so it must not call back into the Gateway.
	ConsumeSessionStart() bool
}

// Gateway is a fake Discord gateway on 127.0.0.1 for offline tests. It
// speaks the real protocol (HELLO, IDENTIFY/READY, RESUME/RESUMED,
// heartbeats, zlib-stream and zstd-stream, the limits and close codes) and
// lets a test push dispatches, hold sample guilds, inject faults and read
// back everything each client sent.
//
// Set the fields, then call Start; the zero value is a one-shard gateway
// that accepts any token. Fields must not change after Start; the methods
// are safe for concurrent use. Each connection's outgoing queue is
// unbounded, so a client that stops reading holds what is dispatched to it
// in memory until it is closed.
type Gateway struct {
	// Addr is where the main listener binds; empty means 127.0.0.1:0.
	Addr string
	// ResumeAddr is where the listener named in READY's resume_gateway_url
	// binds; empty means 127.0.0.1:0.
	ResumeAddr string
	// HeartbeatInterval is sent in HELLO, in whole milliseconds; zero means
	// Discord's 41.25 s.
	HeartbeatInterval time.Duration
	// Token, when set, is the only token IDENTIFY and RESUME accept (else
	// close 4004). Empty accepts any non-empty token.
	Token string
	// Shards is the shard count the fake requires at least (else close
	// 4011); zero means 1.
	Shards int
	// MaxConcurrency is the number of identify buckets; zero means 1.
	MaxConcurrency int
	// SessionStarts, when set, is asked before every new session; a refusal
	// is answered with INVALID_SESSION d:false. Nil means Server's, if set.
	SessionStarts SessionStarts
	// Server, when set, is the REST fake this gateway belongs to: Guilds
	// are added to it and GUILD_CREATE sends them as it holds them, the
	// events its routes cause (MESSAGE_CREATE after Create Message,
	// GUILD_MEMBER_UPDATE after Add Guild Member Role...) are dispatched
	// here, INTERACTION_CREATEs dispatched here are known to its callback
	// route, and IDENTIFY spends its session start limit.
	Server *Server
	// DisallowedIntents are intent bits refused with close 4014, as when a
	// privileged intent is not enabled for the application. Zero allows all.
	DisallowedIntents int64
	// Guilds are sample guilds, JSON objects with a snowflake "id". Each is
	// listed unavailable in READY and sent as GUILD_CREATE after READY, on
	// the shard the sharding formula gives.
	Guilds []json.RawMessage
	// Members are the members of sample guilds, by guild id, each a JSON
	// member object with a "user". REQUEST_GUILD_MEMBERS is answered with
	// one GUILD_MEMBERS_CHUNK of those that match; a second request for all
	// members of a guild within 30 s gets a RATE_LIMITED dispatch.
	Members map[uint64][]json.RawMessage
	// ReplayLimit bounds the dispatches kept per session for RESUME; zero
	// means 10,000. A RESUME from before the oldest kept one is answered
	// with INVALID_SESSION d:false.
	ReplayLimit int
	// SessionTimeout is how long a session stays resumable once its
	// connection is gone (closed with a code other than 1000/1001, or
	// dropped): Discord's "a few minutes". After it the session expires: a
	// RESUME gets INVALID_SESSION d:false and dispatches to the shard fail
	// with ErrNoSession. Zero means 3 minutes; negative keeps sessions
	// until Close.
	SessionTimeout time.Duration
	// MaxRecorded bounds the payloads Received keeps: at least the newest
	// MaxRecorded. Zero keeps all, as a test wants; a fake that runs for
	// days sets it.
	MaxRecorded int
	// UserID is the bot's user id in READY; zero means 1000000000000000001.
	UserID uint64
	// Now is the clock for rate limits, identify buckets and refusals;
	// nil means time.Now.
	Now func() time.Time
	// Logger receives debug logs; nil is silent.
	Logger *slog.Logger

	mu         sync.Mutex
	state      int // stateNew, stateRunning or stateClosed
	servers    [2]*http.Server
	urls       [2]string
	wg         sync.WaitGroup
	conns      map[*gwConn]struct{}
	nconns     int
	sessions   map[string]*gwSession
	current    map[int]*gwSession // a shard's newest session
	guilds     []sampleGuild
	buckets    map[int]time.Time    // identify bucket -> last accepted IDENTIFY
	allMembers map[uint64]time.Time // guild -> last request for all members
	refuse     time.Time            // refuse new connections until
	flapUntil  time.Time            // drop connections after READY or RESUMED until
	refused    int
	received   history[Received]
	connInfo   []ConnInfo
	changed    chan struct{} // closed and replaced on every recorded change
	sessCount  int
	numShards  int // the shard count of the last IDENTIFY
	// reconnectFirst is how many new connections get op 7 before HELLO.
	reconnectFirst int
}

// The life of a Gateway: Start moves it from new to running, Close to closed.
const (
	stateNew = iota
	stateRunning
	stateClosed
)

// Listener names one of the Gateway's two listeners.
type Listener int

const (
	// MainListener is the one URL returns.
	MainListener Listener = iota
	// ResumeListener is the one READY's resume_gateway_url points at.
	ResumeListener
)

func (l Listener) String() string {
	if l == ResumeListener {
		return "resume"
	}
	return "main"
}

// Start binds both listeners and starts serving.
func (g *Gateway) Start() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	switch g.state {
	case stateRunning:
		return ErrGatewayStarted
	case stateClosed:
		return ErrGatewayClosed
	}
	guilds, err := parseGuilds(g.Guilds)
	if err != nil {
		return err
	}
	if g.Server != nil {
		for _, gd := range guilds {
			if err := g.Server.AddGuild(gd.raw); err != nil {
				return fmt.Errorf("%w: %w", ErrBadGuild, err)
			}
		}
		g.Server.attach(g)
		if g.SessionStarts == nil {
			g.SessionStarts = g.Server
		}
	}
	g.guilds = guilds
	g.initLocked()
	var lns [2]net.Listener
	for i, addr := range [2]string{g.Addr, g.ResumeAddr} {
		if addr == "" {
			addr = "127.0.0.1:0"
		}
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			if i == 1 {
				lns[0].Close()
			}
			return fmt.Errorf("discordtest: gateway listen: %w", err)
		}
		lns[i] = ln
		g.urls[i] = "ws://" + ln.Addr().String()
	}
	for i := range lns {
		which := Listener(i)
		srv := &http.Server{
			Handler:           http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { g.serveHTTP(w, r, which) }),
			ReadHeaderTimeout: 10 * time.Second,
			ErrorLog:          slog.NewLogLogger(g.logger().Handler(), slog.LevelDebug),
		}
		g.servers[i] = srv
		g.wg.Add(1)
		go func(ln net.Listener) {
			defer g.wg.Done()
			srv.Serve(ln)
		}(lns[i])
	}
	g.state = stateRunning
	return nil
}

// initLocked makes the Gateway's maps.
func (g *Gateway) initLocked() {
	g.conns = map[*gwConn]struct{}{}
	g.sessions = map[string]*gwSession{}
	g.current = map[int]*gwSession{}
	g.buckets = map[int]time.Time{}
	g.allMembers = map[uint64]time.Time{}
	g.changed = make(chan struct{})
	g.received.max = g.MaxRecorded
}

// Close stops both listeners, drops every connection and waits for the
// Gateway's goroutines to end. Sessions are forgotten.
func (g *Gateway) Close() error {
	g.mu.Lock()
	if g.state != stateRunning {
		g.state = stateClosed
		g.mu.Unlock()
		return nil
	}
	g.state = stateClosed
	conns := make([]*gwConn, 0, len(g.conns))
	for c := range g.conns {
		conns = append(conns, c)
	}
	g.mu.Unlock()
	for _, s := range g.servers {
		s.Close()
	}
	for _, c := range conns {
		c.end()
	}
	g.wg.Wait()
	return nil
}

// Shutdown stops accepting connections, closes every connection with 1001
// (going away, as a restarting gateway does; sessions stay resumable until
// Close), waits for the clients to finish the closing handshake or for ctx
// to end, and then closes the Gateway.
func (g *Gateway) Shutdown(ctx context.Context) error {
	g.mu.Lock()
	if g.state != stateRunning {
		g.mu.Unlock()
		return g.Close()
	}
	g.refuse = time.Unix(1<<62, 0) // for ever, whatever the clock says
	for c := range g.conns {
		g.closeConnLocked(c, 1001, "going away")
	}
	g.mu.Unlock()
	for _, s := range g.servers {
		s.Close()
	}
	err := g.waitFor(ctx, func() bool { return len(g.conns) == 0 })
	g.Close()
	return err
}

// URL is the gateway URL clients connect to, without query, as Get Gateway
// Bot would report it ("ws://127.0.0.1:port").
func (g *Gateway) URL() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.urls[0]
}

// ResumeURL is the resume_gateway_url sent in READY, served by a second
// listener so that tests can prove a client resumes there.
func (g *Gateway) ResumeURL() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.urls[1]
}

func (g *Gateway) logger() *slog.Logger {
	if g.Logger != nil {
		return g.Logger
	}
	return slog.New(slog.DiscardHandler)
}

func (g *Gateway) now() time.Time {
	if g.Now != nil {
		return g.Now()
	}
	return time.Now()
}

func (g *Gateway) heartbeatInterval() time.Duration {
	if g.HeartbeatInterval > 0 {
		return g.HeartbeatInterval
	}
	return 41250 * time.Millisecond
}

// notifyLocked wakes everything waiting in a Wait method.
func (g *Gateway) notifyLocked() {
	close(g.changed)
	g.changed = make(chan struct{})
	g.received.max = g.MaxRecorded
}

// serveHTTP checks the query and upgrade request, then hands the hijacked
// connection to a gwConn.
func (g *Gateway) serveHTTP(w http.ResponseWriter, r *http.Request, which Listener) {
	q := r.URL.Query()
	version := 10
	if v := q.Get("v"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			http.Error(w, "invalid v", http.StatusBadRequest)
			return
		}
		version = n
	}
	if e := q.Get("encoding"); e != "" && e != "json" {
		http.Error(w, "discordtest: only encoding=json is supported", http.StatusBadRequest)
		return
	}
	comp := q.Get("compress")
	if comp != "" && comp != compressZlib && comp != compressZstd {
		http.Error(w, "discordtest: compress must be zlib-stream or zstd-stream", http.StatusBadRequest)
		return
	}
	key, err := wsproto.CheckRequest(r)
	if err != nil {
		wsproto.Refuse(w, err)
		return
	}
	g.mu.Lock()
	if g.state != stateRunning {
		g.mu.Unlock()
		http.Error(w, "closed", http.StatusServiceUnavailable)
		return
	}
	if g.now().Before(g.refuse) {
		g.refused++
		g.notifyLocked()
		g.mu.Unlock()
		http.Error(w, "discordtest: refusing connections", http.StatusServiceUnavailable)
		return
	}
	g.mu.Unlock()
	nc, early, err := wsproto.Accept(w, key, "", "")
	if err != nil {
		return
	}
	g.mu.Lock()
	if g.state != stateRunning {
		g.mu.Unlock()
		nc.Close()
		return
	}
	g.nconns++
	c := newConn(g, nc, g.nconns, which, version, comp)
	g.logger().Debug("discordtest: gateway connection", "conn", c.num, "listener", which, "query", r.URL.RawQuery)
	g.conns[c] = struct{}{}
	g.connInfo = append(g.connInfo, ConnInfo{Num: c.num, Listener: which, Version: version, Compress: comp, Query: r.URL.RawQuery})
	g.notifyLocked()
	g.wg.Add(2) // readLoop and writeLoop
	g.mu.Unlock()
	go c.writeLoop()
	c.readLoop(early)
}

// RefuseConnections makes the Gateway answer new upgrade requests with 503
// for d (by the Gateway's clock); zero or negative stops refusing.
func (g *Gateway) RefuseConnections(d time.Duration) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if d <= 0 {
		g.refuse = time.Time{}
		return
	}
	g.refuse = g.now().Add(d)
}

// Refused is the number of connections refused so far.
func (g *Gateway) Refused() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.refused
}

// waitFor blocks until cond (called with g.mu held) is true or ctx ends.
func (g *Gateway) waitFor(ctx context.Context, cond func() bool) error {
	for {
		g.mu.Lock()
		if g.changed == nil {
			g.mu.Unlock()
			return ErrGatewayNotStarted
		}
		if cond() {
			g.mu.Unlock()
			return nil
		}
		ch := g.changed
		g.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
