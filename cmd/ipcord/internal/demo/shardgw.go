package demo

import (
	"context"
	"strings"
	"time"

	"github.com/ipcord/ipcord/gateway"
	"github.com/ipcord/ipcord/gateway/shard"
	"github.com/ipcord/ipcord/metrics"
)

// shardGateway runs the bot's shards with gateway/shard's Manager.
type shardGateway struct{ m *shard.Manager }

// NewShardGateway runs the bot's shards with gateway/shard's Manager: the
// shard count, URL and identify buckets come from Get Gateway Bot through
// cfg.REST unless cfg.Shards is set. With cfg.Metrics the shards' events
// and status become Prometheus metrics, and with cfg.Health a stopped
// shard fails the health check.
func NewShardGateway(cfg GatewayConfig) (Gateway, error) {
	h := cfg.Handler
	var handler shard.Handler = func(ctx context.Context, ev shard.Event) {
		if h != nil {
			h(ctx, Event{Shard: ev.Shard, Seq: ev.Seq, Name: ev.Name, Data: ev.Data})
		}
	}
	if cfg.Metrics != nil {
		handler = cfg.Metrics.ShardHandler(handler)
	}
	m, err := shard.NewManager(shard.ManagerConfig{
		Shard: shard.Config{
			Gateway: gateway.Config{Token: cfg.Token, Intents: cfg.Intents, Logger: cfg.Logger},
			Handler: handler,
			Logger:  cfg.Logger,
		},
		REST:       cfg.REST,
		ShardCount: cfg.Shards,
	})
	if err != nil {
		return nil, err
	}
	if cfg.Metrics != nil {
		if err := cfg.Metrics.Shards(m.Status); err != nil {
			return nil, err
		}
	}
	if cfg.Health != nil {
		cfg.Health.Add("shards", metrics.ShardsRunning(m.Status))
	}
	return &shardGateway{m: m}, nil
}

// Run implements Gateway.
func (g *shardGateway) Run(ctx context.Context) error { return g.m.Run(ctx) }

// Status implements Gateway.
func (g *shardGateway) Status() []ShardStatus {
	var out []ShardStatus
	for _, s := range g.m.Status() {
		out = append(out, shardStatus(s, time.Now()))
	}
	return out
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
