package demo

import (
	"context"
	"strings"

	"github.com/ipcord/ipcord/gateway"
	"github.com/ipcord/ipcord/gateway/shard"
)

// shardGateway runs the bot's shards with gateway/shard's Manager.
type shardGateway struct{ m *shard.Manager }

// NewShardGateway runs the bot's shards with gateway/shard's Manager: the
// shard count, URL and identify buckets come from Get Gateway Bot through
// cfg.REST unless cfg.Shards is set.
func NewShardGateway(cfg GatewayConfig) (Gateway, error) {
	h := cfg.Handler
	m, err := shard.NewManager(shard.ManagerConfig{
		Shard: shard.Config{
			Gateway: gateway.Config{Token: cfg.Token, Intents: cfg.Intents, Logger: cfg.Logger},
			Handler: func(ctx context.Context, ev shard.Event) {
				if h != nil {
					h(ctx, Event{Shard: ev.Shard, Seq: ev.Seq, Name: ev.Name, Data: ev.Data})
				}
			},
			Logger: cfg.Logger,
		},
		REST:       cfg.REST,
		ShardCount: cfg.Shards,
	})
	if err != nil {
		return nil, err
	}
	return &shardGateway{m: m}, nil
}

// Run implements Gateway.
func (g *shardGateway) Run(ctx context.Context) error { return g.m.Run(ctx) }

// Status implements Gateway.
func (g *shardGateway) Status() []ShardStatus {
	var out []ShardStatus
	for _, s := range g.m.Status() {
		out = append(out, ShardStatus{
			ID: s.ID, State: strings.ToUpper(s.State.String()), LatencyMS: float64(s.Latency.Microseconds()) / 1000,
			Seq: s.Seq, Reconnects: s.Reconnects,
		})
	}
	return out
}
