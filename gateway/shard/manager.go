package shard

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/ipcord/ipcord/discord"
	"github.com/ipcord/ipcord/gateway"
	"github.com/ipcord/ipcord/rest"
)

// ManagerConfig describes a set of shards. Every zero value works when
// REST is set: shard count, max_concurrency, URL and the daily budget
// then come from Get Gateway Bot.
type ManagerConfig struct {
	// Shard is the template for every shard. The Manager sets
	// Gateway.ShardID, Gateway.ShardCount, Session, and (when nil)
	// Gateway.URL, Identify and Connects (one ConnectLimit for all the
	// shards, with a Burst of at least their number).
	Shard Config
	// REST is asked Get Gateway Bot when ShardCount, MaxConcurrency or
	// Shard.Gateway.URL is missing.
	REST *rest.Client
	// ShardCount is the total number of shards; 0 takes Discord's
	// recommendation.
	ShardCount int
	// MaxConcurrency is the number of identify buckets; 0 takes Discord's.
	MaxConcurrency int
	// Shards are the ids this process runs, for bots spread over
	// processes; nil means all of [0, ShardCount).
	Shards []int
	// Sessions are sessions to resume, by shard id (from Sessions of a
	// previous process).
	Sessions map[int]gateway.Session
	// IdentifyReserve is the number of session starts (Get Gateway Bot's
	// session_start_limit) the Manager never spends: an IDENTIFY that
	// would leave fewer is refused with an *IdentifyBudgetError and a
	// warning saying when the budget resets, so that no reconnect storm
	// gets the token reset. Zero refuses only when nothing is left;
	// negative turns the guard off. It needs REST, and it guards
	// Shard.Identify too when that is set (a fleet's shared limiter).
	IdentifyReserve int
	// BudgetRefresh is how old the copy of session_start_limit may grow
	// before the Manager asks Get Gateway Bot again; DefaultBudgetRefresh
	// if 0.
	BudgetRefresh time.Duration
	// IdentifyInterval is the LocalLimiter's gap between IDENTIFYs of a
	// bucket when the Manager makes one (Shard.Identify nil);
	// DefaultIdentifyInterval if 0. Tests shorten it. That LocalLimiter
	// runs on Shard.Clock, as the shards do.
	IdentifyInterval time.Duration
}

// Manager runs many shards of one bot: it sizes them (from Get Gateway
// Bot or config), starts them so that IDENTIFYs go out bucket by bucket in
// shard order, and stops them all when one hits a fatal error. Shards can
// move between Managers of different processes while they run: HandOff
// gives one up at a dispatch boundary and Adopt resumes it (package
// gateway/shard/handoff does both over ipc).
type Manager struct {
	cfg ManagerConfig

	mu       sync.Mutex
	count    int
	mc       int
	url      string
	limiter  IdentifyLimiter
	connects *ConnectLimit
	shards   map[int]*Shard
	ids      []int
	rctx     context.Context // the shards' context, nil before Run has sized them
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	fatal    error
	sized    chan struct{} // closed when Run has sized the shards (or failed to)
	done     chan struct{}
	closed   bool
}

// NewManager checks cfg; Run starts the shards.
func NewManager(cfg ManagerConfig) (*Manager, error) {
	if cfg.Shard.Gateway.Token == "" {
		return nil, fmt.Errorf("%w: empty token", ErrConfig)
	}
	if cfg.ShardCount < 0 || cfg.MaxConcurrency < 0 {
		return nil, fmt.Errorf("%w: negative shard count or max_concurrency", ErrConfig)
	}
	if cfg.REST == nil && (cfg.ShardCount == 0 || cfg.Shard.Gateway.URL == "") {
		return nil, fmt.Errorf("%w: without REST, ShardCount and Shard.Gateway.URL are required", ErrConfig)
	}
	for _, id := range cfg.Shards {
		if id < 0 || (cfg.ShardCount > 0 && id >= cfg.ShardCount) {
			return nil, fmt.Errorf("%w: shard id %d out of range", ErrConfig, id)
		}
	}
	return &Manager{cfg: cfg, sized: make(chan struct{}), done: make(chan struct{})}, nil
}

// Run sizes and starts the shards, and blocks until ctx ends (it returns
// ctx's error; the sessions stay resumable), Close is called (nil), or a
// shard stops with a fatal error, which stops the others (keeping their
// sessions) and is returned. A Manager whose shards were all handed off
// keeps running, ready to Adopt, until one of those.
func (m *Manager) Run(ctx context.Context) error {
	defer close(m.done)
	sizedOnce := sync.OnceFunc(func() { close(m.sized) })
	defer sizedOnce()
	cfg := m.cfg
	count, mc, url := cfg.ShardCount, cfg.MaxConcurrency, cfg.Shard.Gateway.URL
	var limit *discord.SessionStartLimit
	if cfg.REST == nil {
		// NewManager made sure count and url are set; one bucket is the
		// safe guess for max_concurrency.
		mc = max(mc, 1)
	}
	if cfg.REST != nil {
		gb, err := cfg.REST.GatewayBot(ctx)
		if err != nil && (count == 0 || mc == 0 || url == "") {
			return fmt.Errorf("shard: get gateway bot: %w", err)
		}
		if err != nil {
			// The config has the rest; the budget guard waits for a
			// later answer.
			gb = &discord.GatewayBot{}
			if cfg.Shard.Logger != nil {
				cfg.Shard.Logger.Warn("shard: get gateway bot: the identify budget is unknown until it answers", "err", err)
			}
		}
		if count == 0 {
			count = max(gb.Shards, 1)
		}
		if mc == 0 {
			mc = max(gb.SessionStartLimit.MaxConcurrency, 1)
		}
		if url == "" {
			url = gb.URL
		}
		limit = &gb.SessionStartLimit
	}
	ids := slices.Clone(cfg.Shards)
	if ids == nil {
		for i := range count {
			ids = append(ids, i)
		}
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	for _, id := range ids {
		if id >= count {
			return fmt.Errorf("%w: shard id %d of %d", ErrConfig, id, count)
		}
	}
	var lim IdentifyLimiter = cfg.Shard.Identify
	if lim == nil {
		lim = &LocalLimiter{MaxConcurrency: mc, Interval: cfg.IdentifyInterval, Clock: cfg.Shard.Clock}
	}
	if limit != nil && cfg.IdentifyReserve >= 0 {
		log := cfg.Shard.Logger
		if log == nil {
			log = slog.New(slog.DiscardHandler)
		}
		lim = newBudgetGuard(lim, cfg.REST, *limit, cfg.IdentifyReserve, cfg.BudgetRefresh, clockOr(cfg.Shard.Clock), log)
	}
	ordered := newOrderedLimiter(lim, ids, mc)
	connects := cfg.Shard.Connects
	if connects == nil {
		connects = &ConnectLimit{Burst: max(DefaultConnectsPerMinute, len(ids))}
	}

	shards := make(map[int]*Shard, len(ids))
	for _, id := range ids {
		s, err := m.newShard(id, count, url, ordered, connects, cfg.Sessions[id])
		if err != nil {
			return err
		}
		shards[id] = s
	}
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil
	}
	m.count, m.mc, m.url, m.limiter, m.connects = count, mc, url, lim, connects
	m.shards, m.ids, m.rctx, m.cancel = shards, ids, rctx, cancel
	for _, id := range ids {
		m.startLocked(shards[id])
	}
	m.mu.Unlock()
	sizedOnce()

	<-rctx.Done()
	m.mu.Lock()
	m.rctx = nil // Adopt starts nothing more, so wg.Wait sees every shard
	m.mu.Unlock()
	m.wg.Wait()
	m.mu.Lock()
	fatal := m.fatal
	m.mu.Unlock()
	if fatal != nil {
		return fatal
	}
	return ctx.Err()
}

// newShard makes shard id from the template.
func (m *Manager) newShard(id, count int, url string, lim IdentifyLimiter, connects *ConnectLimit, sess gateway.Session) (*Shard, error) {
	sc := m.cfg.Shard
	sc.Gateway.ShardID, sc.Gateway.ShardCount, sc.Gateway.URL = id, count, url
	sc.Identify = lim
	sc.Connects = connects
	sc.Session = sess
	return New(sc)
}

// startLocked runs s until the Manager's context ends; a fatal error
// stops every shard. m.mu must be held.
func (m *Manager) startLocked(s *Shard) {
	m.wg.Add(1)
	rctx, cancel := m.rctx, m.cancel
	go func() {
		defer m.wg.Done()
		err := s.Run(rctx)
		if err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
			m.mu.Lock()
			if m.fatal == nil {
				m.fatal = fmt.Errorf("shard %d: %w", s.ID(), err)
			}
			m.mu.Unlock()
			cancel()
		}
	}()
}

// ShardFor returns the id of the shard that receives guildID's events,
// by Discord's formula (guild_id >> 22) % shard_count. It is 0 before Run
// has sized the shards.
func (m *Manager) ShardFor(guildID uint64) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.count == 0 {
		return 0
	}
	return int((guildID >> 22) % uint64(m.count))
}

// Shard returns the running shard with id, or nil (not run here, or Run
// has not started it yet).
func (m *Manager) Shard(id int) *Shard {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.shards[id]
}

// Status returns every shard's status, in shard order.
func (m *Manager) Status() []Status {
	m.mu.Lock()
	running := make([]*Shard, 0, len(m.ids))
	for _, id := range m.ids {
		running = append(running, m.shards[id])
	}
	m.mu.Unlock()
	out := make([]Status, 0, len(running))
	for _, s := range running {
		out = append(out, s.Status())
	}
	return out
}

// Sessions returns every shard's resumable session, for a process that
// takes over (ManagerConfig.Sessions).
func (m *Manager) Sessions() map[int]gateway.Session {
	m.mu.Lock()
	running := maps.Clone(m.shards)
	m.mu.Unlock()
	out := map[int]gateway.Session{}
	for id, sh := range running {
		if s := sh.Session(); s.Valid() {
			out[id] = s
		}
	}
	return out
}

// Close stops every shard and waits for Run to return (or ctx to end).
// With end false the sessions stay resumable (see Sessions); with end true
// they are ended on Discord's side.
func (m *Manager) Close(ctx context.Context, end bool) error {
	m.mu.Lock()
	m.closed = true
	running := slices.Collect(maps.Values(m.shards))
	cancel := m.cancel
	m.mu.Unlock()
	var wg sync.WaitGroup
	errs := make([]error, len(running))
	for i, sh := range running {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := sh.Close(ctx, end); !errors.Is(err, ErrNotRunning) {
				errs[i] = err
			}
		}()
	}
	wg.Wait()
	if cancel != nil {
		// Shards whose Run had not started yet never will.
		cancel()
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if cancel == nil {
		return nil
	}
	select {
	case <-m.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// orderedLimiter makes each shard's first IDENTIFY wait until the
// previous shard of its bucket (among those run here) has taken its slot,
// so buckets fill in shard order whatever the goroutines' timing. Later
// IDENTIFYs go straight to the inner limiter.
type orderedLimiter struct {
	inner IdentifyLimiter
	after map[int]chan struct{} // shard -> closed once the previous shard of its bucket got a slot
	mine  map[int]chan struct{} // shard -> its own channel, closed at its first slot
	once  map[int]*sync.Once
}

func newOrderedLimiter(inner IdentifyLimiter, ids []int, mc int) *orderedLimiter {
	o := &orderedLimiter{inner: inner, after: map[int]chan struct{}{}, mine: map[int]chan struct{}{}, once: map[int]*sync.Once{}}
	last := map[int]int{} // bucket -> last shard seen
	for _, id := range ids {
		o.mine[id] = make(chan struct{})
		o.once[id] = new(sync.Once)
		b := id % mc
		if prev, ok := last[b]; ok {
			o.after[id] = o.mine[prev]
		}
		last[b] = id
	}
	return o
}

func (o *orderedLimiter) Acquire(ctx context.Context, shardID int) (func(error), error) {
	if wait := o.after[shardID]; wait != nil {
		select {
		case <-wait:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	rel, err := o.inner.Acquire(ctx, shardID)
	if err == nil {
		if once := o.once[shardID]; once != nil {
			once.Do(func() { close(o.mine[shardID]) })
		}
	}
	return rel, err
}
