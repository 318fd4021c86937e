package discordtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/ipcord/ipcord/discord"
)

// ServerOptions configures a Server; the zero value works.
type ServerOptions struct {
	// Token, when set, is the bot token the routes that need one require
	// ("Authorization: Bot <Token>"); others get 401.
	Token string
	// Application is served by GET /applications/@me; a zero ID becomes 1
	// and an empty Name "ipcord-test".
	Application discord.Application
	// GatewayBot is served by GET /gateway/bot. Zero fields become: URL
	// "wss://gateway.discord.gg", 1 shard, and a session start limit of
	// 1000 total and remaining, reset after a day, max concurrency 1.
	// Each IDENTIFY of a Gateway whose SessionStarts is this Server takes
	// one from remaining; reset_after counts down by Now, and when it
	// reaches zero remaining is total again, as on Discord.
	GatewayBot discord.GatewayBot
	// Now is the clock of the session start limit and the rate limits;
	// nil means time.Now.
	Now func() time.Time
	// MaxBody bounds a request body (default 32 MiB).
	MaxBody int64
	// MaxRecorded bounds the requests Requests keeps: at least the newest
	// MaxRecorded. Zero keeps all, as a test wants; a fake that runs for
	// days sets it.
	MaxRecorded int
}

// Server is a fake of the Discord REST routes ipcord calls. Its URL is the
// base URL to give rest.Client.
type Server struct {
	// URL is the API root, like "http://127.0.0.1:41234/api/v10".
	URL string

	opts        ServerOptions
	ln          net.Listener
	srv         *http.Server
	done        chan struct{}
	mu          sync.Mutex
	reqs        history[Request]
	notify      chan struct{} // closed and replaced on each recorded request
	faults      []*Fault
	nextID      uint64
	gw          discord.GatewayBot
	startsReset time.Time // when the session start budget refills
	limits      map[string]*routeLimit
	limit       *RateLimit
	refused     int
	mounts      map[string]http.Handler
	world       *world
	events      *Gateway // where route events go; nil drops them
}

// NewServer starts a Server on 127.0.0.1 with an OS-chosen port.
func NewServer(opts *ServerOptions) (*Server, error) {
	var o ServerOptions
	if opts != nil {
		o = *opts
	}
	if o.Application.ID == 0 {
		o.Application.ID = 1
	}
	if o.Application.Name == "" {
		o.Application.Name = "ipcord-test"
	}
	if o.MaxBody == 0 {
		o.MaxBody = 32 << 20
	}
	gw := o.GatewayBot
	if gw.URL == "" {
		gw.URL = "wss://gateway.discord.gg"
	}
	if gw.Shards == 0 {
		gw.Shards = 1
	}
	if gw.SessionStartLimit == (discord.SessionStartLimit{}) {
		gw.SessionStartLimit = discord.SessionStartLimit{Total: 1000, Remaining: 1000, ResetAfter: 86400000, MaxConcurrency: 1}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("discordtest: listen: %w", err)
	}
	s := &Server{
		URL: "http://" + ln.Addr().String() + "/api/v10", opts: o, ln: ln, done: make(chan struct{}),
		reqs:   history[Request]{max: o.MaxRecorded},
		notify: make(chan struct{}), nextID: 1 << 40, gw: gw, limits: map[string]*routeLimit{},
		mounts: map[string]http.Handler{},
		world:  newWorld(uint64(o.Application.ID), o.Application.Name),
	}
	s.startsReset = s.now().Add(resetAfter(gw.SessionStartLimit))
	s.srv = &http.Server{Handler: http.HandlerFunc(s.serve), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		defer close(s.done)
		s.srv.Serve(ln)
	}()
	return s, nil
}

// Close stops the server and its connections.
func (s *Server) Close() error {
	err := s.srv.Close()
	<-s.done
	return err
}

// ConsumeSessionStart takes one session start (an IDENTIFY) from the
// session start limit and reports whether one was left. The fake gateway
// calls it for each IDENTIFY.
func (s *Server) ConsumeSessionStart() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refillLocked()
	if s.gw.SessionStartLimit.Remaining <= 0 {
		return false
	}
	s.gw.SessionStartLimit.Remaining--
	return true
}

// refillLocked brings the session start limit to the present: after
// reset_after the budget is whole again for another day.
func (s *Server) refillLocked() {
	l := &s.gw.SessionStartLimit
	now := s.now()
	if !now.Before(s.startsReset) {
		l.Remaining = l.Total
		s.startsReset = now.Add(24 * time.Hour)
	}
	l.ResetAfter = int(s.startsReset.Sub(now).Milliseconds())
}

// GatewayBot returns what GET /gateway/bot answers now.
func (s *Server) GatewayBot() discord.GatewayBot {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refillLocked()
	return s.gw
}

// SetGatewayBot changes what GET /gateway/bot answers (for example the URL
// of a fake gateway started after the Server, or a session start limit
// with little left); the budget refills ResetAfter from now (a day when
// that is zero).
func (s *Server) SetGatewayBot(g discord.GatewayBot) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gw = g
	s.startsReset = s.now().Add(resetAfter(g.SessionStartLimit))
}

// resetAfter is when a session start limit refills; zero means a day, as
// for a budget that was never spent.
func resetAfter(l discord.SessionStartLimit) time.Duration {
	if l.ResetAfter <= 0 {
		return 24 * time.Hour
	}
	return time.Duration(l.ResetAfter) * time.Millisecond
}

func (s *Server) now() time.Time {
	if s.opts.Now != nil {
		return s.opts.Now()
	}
	return time.Now()
}

// Mount serves h for requests whose path starts with prefix (outside the
// API root, such as "/gateway"), so other fakes — the fake gateway — can
// share the Server's address. Mounted paths are not recorded.
func (s *Server) Mount(prefix string, h http.Handler) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mounts[prefix] = h
}

// mounted returns the handler mounted for path, if any.
func (s *Server) mounted(path string) http.Handler {
	s.mu.Lock()
	defer s.mu.Unlock()
	for prefix, h := range s.mounts {
		if strings.HasPrefix(path, prefix) {
			return h
		}
	}
	return nil
}

// Requests returns a copy of every request received so far, in order (the
// newest MaxRecorded, at least, when that is set).
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reqs.all()
}

// ErrNoMatch is returned by Wait when ctx ends before a matching request.
var ErrNoMatch = errors.New("discordtest: no matching request")

// Wait returns the first received request (already recorded or still to
// come) for which match is true, or ErrNoMatch wrapped with ctx's error
// when ctx ends first.
func (s *Server) Wait(ctx context.Context, match func(Request) bool) (Request, error) {
	seen := 0
	for {
		s.mu.Lock()
		var reqs []Request
		reqs, seen = s.reqs.from(seen)
		ch := s.notify
		s.mu.Unlock()
		for _, r := range reqs {
			if match(r) {
				return r, nil
			}
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return Request{}, fmt.Errorf("%w: %w", ErrNoMatch, ctx.Err())
		}
	}
}

// Route returns a matcher for Wait: the method and a path pattern under
// the API root whose "*" segments match any one segment, like
// "PATCH /webhooks/*/*/messages/@original".
func Route(methodAndPath string) func(Request) bool {
	method, pattern, _ := strings.Cut(methodAndPath, " ")
	want := strings.Split(strings.Trim(pattern, "/"), "/")
	return func(r Request) bool {
		if r.Method != method {
			return false
		}
		got := strings.Split(strings.Trim(r.Path, "/"), "/")
		if len(got) != len(want) {
			return false
		}
		for i := range want {
			if want[i] != "*" && want[i] != got[i] {
				return false
			}
		}
		return true
	}
}

func (s *Server) record(r Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reqs.add(r)
	close(s.notify)
	s.notify = make(chan struct{})
}

// newIDLocked makes a snowflake for a new object, of the Server's clock.
func (s *Server) newIDLocked() uint64 {
	s.nextID++
	return uint64(s.now().UnixMilli()-discord.Epoch)<<22 | s.nextID&0x3fffff
}

// AddGuild adds a sample guild (a JSON guild object with a snowflake
// "id", and its channels, roles and members if it likes) to what the REST
// routes serve; a Gateway whose Server is s adds its Guilds this way and
// sends the result as GUILD_CREATE. Fields the guild leaves out get
// Discord's defaults, an @everyone role and the bot as a member. Once a
// Server has a guild, a route naming an unknown channel or guild answers
// 10003 Unknown Channel or 10004 Unknown Guild, as Discord does; until
// then any channel id is taken, so tests of one route need no setup.
func (s *Server) AddGuild(guild json.RawMessage) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, err := s.world.addGuild(guild, s.now())
	return err
}

// guildCreate is the GUILD_CREATE data of a guild the Server holds, or nil.
func (s *Server) guildCreate(id uint64) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.world.guilds[id]
	if g == nil {
		return nil
	}
	b, _ := json.Marshal(s.world.guildCreate(g))
	return b
}

// members returns the members of a guild the Server holds, as JSON.
func (s *Server) members(id uint64) []json.RawMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.world.guilds[id]
	if g == nil {
		return nil
	}
	var out []json.RawMessage
	for _, m := range s.world.memberList(g, 0, len(g.members)) {
		b, _ := json.Marshal(m)
		out = append(out, b)
	}
	return out
}

// attach makes g the gateway that route events are dispatched to.
func (s *Server) attach(g *Gateway) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.events = g
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status, code int, msg string) {
	writeJSON(w, status, map[string]any{"message": msg, "code": code})
}
