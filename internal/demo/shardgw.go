package demo

import "errors"

// errNoShards is returned until the shard Manager is wired in.
var errNoShards = errors.New("demo: no shard manager in this build")

// NewShardGateway runs the bot's shards with gateway/shard's Manager.
func NewShardGateway(cfg GatewayConfig) (Gateway, error) {
	return nil, errNoShards
}
