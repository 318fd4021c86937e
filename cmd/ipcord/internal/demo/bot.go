package demo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ipcord/ipcord/discord"
	"github.com/ipcord/ipcord/interactions"
	"github.com/ipcord/ipcord/rest"
)

// Event is one gateway dispatch as the bot receives it.
type Event struct {
	Shard int
	Seq   int64
	Name  string
	Data  json.RawMessage
	// Received is when the shard read the event off the socket; an
	// interaction's deadline counts from it. Zero means now.
	Received time.Time
}

// EventHandler receives a shard's events in order.
type EventHandler func(ctx context.Context, ev Event)

// Gateway is the bot's side of Discord's gateway: something that runs
// shards, hands their events to an EventHandler, and reports their status.
// NewShardGateway is the real one; tests of the bot may use their own.
type Gateway interface {
	// Run keeps the shards connected until ctx ends.
	Run(ctx context.Context) error
	// Status reports every shard, in shard order.
	Status() []ShardStatus
}

// ShardStatus is one shard as the stats route reports it.
type ShardStatus struct {
	ID         int     `json:"id"`
	State      string  `json:"state"`
	LatencyMS  float64 `json:"latency_ms"`
	Seq        int64   `json:"seq"`
	Reconnects int     `json:"reconnects"`
	Guilds     int     `json:"guilds"`
	// The event accounting of a bot process (ipcord bot), carried across
	// deploys; nil elsewhere.
	*ShardRecord
	// Generation and PID are the bot process holding the shard.
	Generation int `json:"generation,omitempty"`
	PID        int `json:"pid,omitempty"`
	// LastACKAgeMS is the time since the last heartbeat ACK, -1 before
	// the first; it climbs past the heartbeat interval on a zombie.
	LastACKAgeMS  float64 `json:"last_ack_age_ms"`
	LastCloseCode int     `json:"last_close_code"`
	LastError     string  `json:"last_error,omitempty"`
	Identifies    int     `json:"identifies"`
	Resumes       int     `json:"resumes"`
}

// BotConfig configures a Bot.
type BotConfig struct {
	// REST sends the bot's messages and interaction answers.
	REST *rest.Client
	// Gateway makes the bot's gateway with the handler it must call; nil
	// runs the bot without one (events then come only through HandleEvent).
	Gateway func(h EventHandler) (Gateway, error)
	// Recent is how many recent events the bot keeps for the dashboard
	// (default 50).
	Recent int
	// Now is the clock for the event rate; nil means time.Now.
	Now func() time.Time
	// Metrics, when set, is where the stats route reads IPC route
	// statistics from: the registry of the metrics.Recorder that records
	// the bot's IPC server.
	Metrics prometheus.Gatherer
	// Logger receives failures to answer; nil is silent.
	Logger *slog.Logger
	// Generation and PID name the bot process in Stats (ipcord bot);
	// zero elsewhere.
	Generation, PID int
}

// Bot is the demo's sample bot: a cache of guilds and counts fed by
// gateway events, a !ping message command answered through REST, a /ping
// slash command answered over HTTP or the gateway, and IPC routes (Router)
// for dashboards.
type Bot struct {
	cfg   BotConfig
	gw    Gateway
	start time.Time

	mu      sync.Mutex
	userID  discord.Snowflake
	guilds  map[discord.Snowflake]*guildEntry
	rate    rate
	total   int64
	recent  []RecentEvent // a ring of cfg.Recent
	nextN   int64
	answers int64
	pings   int64                  // !ping messages answered
	ep      *interactions.Endpoint // serves the gateway's interactions

	feed feed
}

// guildEntry is what the cache keeps of a guild.
type guildEntry struct {
	name     string
	members  int
	shard    int
	channels []ChannelInfo
}

// RecentEvent is one event as the dashboard lists it.
type RecentEvent struct {
	N       int64     `json:"n"` // increasing, for "events after N"
	At      time.Time `json:"at"`
	Shard   int       `json:"shard"`
	Type    string    `json:"type"`
	Guild   string    `json:"guild,omitempty"`
	Summary string    `json:"summary,omitempty"`
}

// NewBot returns a Bot; Run starts its gateway.
func NewBot(cfg BotConfig) (*Bot, error) {
	if cfg.REST == nil {
		return nil, errors.New("demo: BotConfig.REST is required")
	}
	if cfg.Recent <= 0 {
		cfg.Recent = 50
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	b := &Bot{cfg: cfg, guilds: map[discord.Snowflake]*guildEntry{}, start: cfg.Now(), feed: feed{limit: 50}}
	if cfg.Gateway != nil {
		gw, err := cfg.Gateway(b.HandleEvent)
		if err != nil {
			return nil, err
		}
		b.gw = gw
	}
	return b, nil
}

// Run runs the bot's gateway until ctx ends; without one it just waits.
func (b *Bot) Run(ctx context.Context) error {
	if b.gw == nil {
		<-ctx.Done()
		return nil
	}
	err := b.gw.Run(ctx)
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// HandleEvent updates the cache with one gateway event and answers the
// commands in it.
func (b *Bot) HandleEvent(ctx context.Context, ev Event) {
	switch ev.Name {
	case "READY":
		var r struct {
			User discord.User `json:"user"`
		}
		if json.Unmarshal(ev.Data, &r) == nil {
			b.mu.Lock()
			b.userID = r.User.ID
			b.mu.Unlock()
		}
		b.record(ev, "", "shard ready")
		b.noteReady(ev)
	case "RESUMED":
		b.record(ev, "", "session resumed")
		b.noteReady(ev)
	case "GUILD_CREATE":
		var g struct {
			ID          discord.Snowflake `json:"id"`
			Name        string            `json:"name"`
			MemberCount int               `json:"member_count"`
			Channels    []struct {
				ID   discord.Snowflake `json:"id"`
				Name string            `json:"name"`
				Type int               `json:"type"`
			} `json:"channels"`
		}
		if json.Unmarshal(ev.Data, &g) != nil || g.ID == 0 {
			return
		}
		e := &guildEntry{name: g.Name, members: max(g.MemberCount, 0), shard: ev.Shard}
		for _, c := range g.Channels {
			if c.Type == 0 {
				e.channels = append(e.channels, ChannelInfo{ID: c.ID.String(), Name: c.Name})
			}
		}
		b.mu.Lock()
		b.guilds[g.ID] = e
		b.mu.Unlock()
		b.record(ev, g.Name, fmt.Sprintf("%d members", g.MemberCount))
	case "GUILD_DELETE":
		var g struct {
			ID discord.Snowflake `json:"id"`
		}
		if json.Unmarshal(ev.Data, &g) == nil {
			b.mu.Lock()
			name := b.guildName(g.ID)
			delete(b.guilds, g.ID)
			b.mu.Unlock()
			b.record(ev, name, "")
		}
	case "GUILD_MEMBER_ADD", "GUILD_MEMBER_REMOVE":
		var m struct {
			GuildID discord.Snowflake `json:"guild_id"`
		}
		if json.Unmarshal(ev.Data, &m) == nil {
			b.mu.Lock()
			name := b.guildName(m.GuildID)
			if g := b.guilds[m.GuildID]; g != nil {
				if ev.Name == "GUILD_MEMBER_ADD" {
					g.members++
				} else if g.members > 0 {
					g.members--
				}
			}
			b.mu.Unlock()
			b.record(ev, name, "")
		}
	case "MESSAGE_CREATE":
		b.onMessage(ctx, ev)
	case "INTERACTION_CREATE":
		b.onInteraction(ctx, ev)
	default:
		b.record(ev, "", "")
	}
}

// guildName is the cached name of id; b.mu must be held.
func (b *Bot) guildName(id discord.Snowflake) string {
	if g := b.guilds[id]; g != nil {
		return g.name
	}
	return ""
}

// record counts ev and keeps it among the recent events.
func (b *Bot) record(ev Event, guild, summary string) {
	now := b.cfg.Now()
	b.mu.Lock()
	defer b.mu.Unlock()
	b.rate.add(now)
	b.total++
	b.nextN++
	re := RecentEvent{N: b.nextN, At: now.UTC(), Shard: ev.Shard, Type: ev.Name, Guild: guild, Summary: summary}
	if len(b.recent) < b.cfg.Recent {
		b.recent = append(b.recent, re)
	} else {
		b.recent[int(b.nextN-1)%b.cfg.Recent] = re
	}
}

// onMessage records a message and answers "!ping", or a mention of the bot
// (what works on real Discord without the privileged message content
// intent).
func (b *Bot) onMessage(ctx context.Context, ev Event) {
	var m discord.Message
	if json.Unmarshal(ev.Data, &m) != nil {
		b.record(ev, "", "undecodable message")
		return
	}
	b.mu.Lock()
	self := b.userID
	name := b.guildName(m.GuildID)
	b.mu.Unlock()
	content := m.Content
	if len(content) > 120 {
		content = content[:120] + "…"
	}
	b.record(ev, name, m.Author.Username+": "+content)
	if m.Author.Bot || (self != 0 && m.Author.ID == self) {
		return
	}
	mentioned := false
	for _, u := range m.Mentions {
		mentioned = mentioned || (self != 0 && u.ID == self)
	}
	if strings.TrimSpace(m.Content) != "!ping" && !mentioned {
		return
	}
	st := b.Stats()
	reply := fmt.Sprintf("pong! shard %d, %d guilds, %.1f events/s", ev.Shard, st.Guilds, st.EventsPerSecond)
	actx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := b.cfg.REST.CreateMessage(actx, m.ChannelID, &discord.MessageParams{
		Content:          reply,
		MessageReference: &discord.MessageReference{MessageID: m.ID},
	}); err != nil {
		b.logWarn("demo: answering !ping", err)
		b.feed.add(b.cfg.Now(), "error", "bot", "answering !ping: "+err.Error())
		return
	}
	b.mu.Lock()
	b.pings++
	b.mu.Unlock()
}

func (b *Bot) logWarn(msg string, err error) {
	if b.cfg.Logger != nil {
		b.cfg.Logger.Warn(msg, "err", err)
	}
}

// Stats is what the stats route returns.
type Stats struct {
	Guilds          int           `json:"guilds"`
	Members         int           `json:"members"`
	EventsPerSecond float64       `json:"events_per_second"`
	EventsTotal     int64         `json:"events_total"`
	Answered        int64         `json:"interactions_answered"`
	PingsAnswered   int64         `json:"pings_answered"`
	UptimeSeconds   float64       `json:"uptime_seconds"`
	Shards          []ShardStatus `json:"shards"`
	Generation      int           `json:"generation,omitempty"`
	PID             int           `json:"pid,omitempty"`
	// Deploy is the last deploy of the shards (the deploy route), when
	// there was one.
	Deploy *DeployStatus `json:"deploy,omitempty"`
	// Errors are the newest notices of the error feed, oldest first.
	Errors []Notice `json:"errors"`
	// IPCRoutes are the IPC server's route statistics (with
	// BotConfig.Metrics).
	IPCRoutes []RouteStat `json:"ipc_routes"`
}

// Stats returns the cache's counts and each shard's status.
func (b *Bot) Stats() Stats {
	var shards []ShardStatus
	var deploy *DeployStatus
	if b.gw != nil {
		shards = b.gw.Status()
	}
	if dep, ok := b.gw.(deployer); ok {
		deploy = dep.DeployStatus()
	}
	routes := []RouteStat{}
	if b.cfg.Metrics != nil {
		routes = routeStats(b.cfg.Metrics)
	}
	errs := b.feed.list()
	now := b.cfg.Now()
	b.mu.Lock()
	defer b.mu.Unlock()
	s := Stats{
		Guilds: len(b.guilds), EventsPerSecond: b.rate.perSecond(now), EventsTotal: b.total,
		Answered: b.answers, PingsAnswered: b.pings, UptimeSeconds: now.Sub(b.start).Seconds(), Shards: []ShardStatus{},
		Generation: b.cfg.Generation, PID: b.cfg.PID, Deploy: deploy, Errors: errs, IPCRoutes: routes,
	}
	perShard := map[int]int{}
	for _, g := range b.guilds {
		s.Members += g.members
		perShard[g.shard]++
	}
	for _, sh := range shards {
		sh.Guilds = perShard[sh.ID]
		s.Shards = append(s.Shards, sh)
	}
	return s
}

// GuildInfo is one guild as the guilds route lists it.
type GuildInfo struct {
	ID       string        `json:"id"`
	Name     string        `json:"name"`
	Members  int           `json:"members"`
	Shard    int           `json:"shard"`
	Channels []ChannelInfo `json:"channels"`
}

// ChannelInfo is a text channel of a guild.
type ChannelInfo struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Guilds lists the cached guilds by name.
func (b *Bot) Guilds() []GuildInfo {
	b.mu.Lock()
	out := make([]GuildInfo, 0, len(b.guilds))
	for id, g := range b.guilds {
		out = append(out, GuildInfo{ID: id.String(), Name: g.name, Members: g.members, Shard: g.shard,
			Channels: append([]ChannelInfo{}, g.channels...)})
	}
	b.mu.Unlock()
	sort.Slice(out, func(i, j int) bool {
		if out[i].Name != out[j].Name {
			return out[i].Name < out[j].Name
		}
		return out[i].ID < out[j].ID
	})
	return out
}

// Recent returns the kept events numbered above after, oldest first.
func (b *Bot) Recent(after int64) []RecentEvent {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := []RecentEvent{}
	for _, e := range b.recent {
		if e.N > after {
			out = append(out, e)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].N < out[j].N })
	return out
}

// shardGuilds returns the cached guilds of one shard, for a deploy to
// carry to the next process (which gets no GUILD_CREATE for them).
func (b *Bot) shardGuilds(shard int) []GuildInfo {
	var out []GuildInfo
	for _, g := range b.Guilds() {
		if g.Shard == shard {
			out = append(out, g)
		}
	}
	return out
}

// addGuilds puts guilds carried from the previous process in the cache.
func (b *Bot) addGuilds(gs []GuildInfo) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, g := range gs {
		id, err := discord.ParseSnowflake(g.ID)
		if err != nil || id == 0 {
			continue
		}
		b.guilds[id] = &guildEntry{name: g.Name, members: g.Members, shard: g.Shard, channels: g.Channels}
	}
}
