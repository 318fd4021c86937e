package demo

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ipcord/ipcord/gateway"
	"github.com/ipcord/ipcord/gateway/shard"
	"github.com/ipcord/ipcord/metrics"
)

// shardGateway runs the bot's shards with gateway/shard's Manager, in
// generations: a deploy (Deploy) starts the next generation, which takes
// every shard from the running one by handoff, over an IPC connection, as
// a new `ipcord bot --take-over` process does.
type shardGateway struct {
	cfg     GatewayConfig
	handler shard.Handler
	ledger  *ledger
	pace    time.Duration // between two shards of a deploy, so a viewer sees them move

	deploying sync.WaitGroup // the deploy under way

	mu     sync.Mutex
	ctx    context.Context // Run's, nil before
	gens   []*generation   // running, oldest first
	deploy *DeployStatus   // the last deploy, nil before the first
}

// NewShardGateway runs the bot's shards with gateway/shard's Manager: the
// shard count, URL and identify buckets come from Get Gateway Bot through
// cfg.REST unless cfg.Shards is set. With cfg.Metrics the shards' events
// and status become Prometheus metrics, and with cfg.Health a stopped
// shard fails the health check. It can deploy a new generation of the
// shards with no event lost (the deploy route).
func NewShardGateway(cfg GatewayConfig) (Gateway, error) {
	g := &shardGateway{cfg: cfg, ledger: newLedger(), pace: cmp.Or(cfg.DeployPace, deployPace)}
	h := cfg.Handler
	g.handler = func(ctx context.Context, ev shard.Event) {
		e := eventOf(ev)
		g.ledger.observe(e)
		if h != nil {
			h(ctx, e)
		}
	}
	if cfg.Metrics != nil {
		g.handler = cfg.Metrics.ShardHandler(g.handler)
		if err := cfg.Metrics.Shards(g.shardStatus); err != nil {
			return nil, err
		}
	}
	if cfg.Health != nil {
		cfg.Health.Add("shards", metrics.ShardsRunning(g.shardStatus))
	}
	return g, nil
}

// eventOf is a shard's event as the bot takes it.
func eventOf(ev shard.Event) Event {
	return Event{Shard: ev.Shard, Seq: ev.Seq, Name: ev.Name, Data: ev.Data, Received: ev.Received}
}

// newManager is a Manager for one generation: every shard for the first,
// none (they come by handoff) for the next.
func (g *shardGateway) newManager(count int, shards []int) (*shard.Manager, error) {
	return shard.NewManager(shard.ManagerConfig{
		Shard: shard.Config{
			Gateway: gateway.Config{Token: g.cfg.Token, Intents: g.cfg.Intents, Logger: g.cfg.Logger},
			Handler: g.handler,
			Logger:  g.cfg.Logger,
		},
		REST:       g.cfg.REST,
		ShardCount: count,
		Shards:     shards,
	})
}

// Run implements Gateway: the first generation runs every shard, and
// Run returns when ctx ends or when the newest generation stops by itself
// (a fatal error, which it returns).
func (g *shardGateway) Run(ctx context.Context) error {
	m, err := g.newManager(g.cfg.Shards, nil)
	if err != nil {
		return err
	}
	g.mu.Lock()
	g.ctx = ctx
	g.mu.Unlock()
	g.start(ctx, 1, m)
	defer g.stopAll()
	for {
		gens := g.generations()
		if len(gens) == 0 {
			<-ctx.Done()
			return ctx.Err()
		}
		cur := gens[len(gens)-1]
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-cur.done:
		}
		g.mu.Lock()
		retired := cur.retired
		g.mu.Unlock()
		if !retired {
			return cur.err
		}
	}
}

// Status implements Gateway: every generation's shards, with their
// records.
func (g *shardGateway) Status() []ShardStatus {
	var out []ShardStatus
	now := time.Now()
	for _, gen := range g.generations() {
		for _, s := range gen.m.Status() {
			rec := g.ledger.get(s.ID)
			st := shardStatus(s, now)
			st.ShardRecord, st.Generation = &rec, gen.n
			// The record's counts span every generation.
			st.Identifies, st.Resumes = rec.Identifies, rec.Resumes
			out = append(out, st)
		}
	}
	slices.SortFunc(out, func(a, b ShardStatus) int { return a.ID - b.ID })
	return out
}

// shardStatus is every generation's shards, for metrics and health.
func (g *shardGateway) shardStatus() []shard.Status {
	var out []shard.Status
	for _, gen := range g.generations() {
		out = append(out, gen.m.Status()...)
	}
	return out
}

func (g *shardGateway) generations() []*generation {
	g.mu.Lock()
	defer g.mu.Unlock()
	return slices.Clone(g.gens)
}

// shardStatus is s as the stats route shows it, ages counted to now.
func shardStatus(s shard.Status, now time.Time) ShardStatus {
	st := ShardStatus{
		ID: s.ID, State: strings.ToUpper(s.State.String()), LatencyMS: ms(s.Latency),
		Seq: s.Seq, Reconnects: s.Reconnects, Identifies: s.Identifies, Resumes: s.Resumes,
		LastCloseCode: int(s.LastCloseCode), LastACKAgeMS: -1,
	}
	if !s.LastACK.IsZero() {
		st.LastACKAgeMS = ms(now.Sub(s.LastACK))
	}
	if s.LastError != nil {
		st.LastError = s.LastError.Error()
	}
	return st
}

// ms is d in milliseconds, to the microsecond.
func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
