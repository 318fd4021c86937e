package natsipc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/ipcord/ipcord/gateway/shard"
	"github.com/ipcord/ipcord/rest"
)

// LimiterConfig configures an IdentifyLimiter. MaxConcurrency is the only
// field without a useful zero value.
type LimiterConfig struct {
	// MaxConcurrency is Discord's max_concurrency (Get Gateway Bot): the
	// number of identify buckets, shard_id % MaxConcurrency. Every process
	// of a bot must use the same value.
	MaxConcurrency int
	// Bucket names the JetStream key-value bucket holding the identify
	// keys. Default "ipcord_identify"; bots sharing a NATS account need
	// one each.
	Bucket string
	// Interval is the key's time to live: the least time between the end
	// of one IDENTIFY (READY or failure) and the start of the next in the
	// same bucket. Default 5 s (Discord's rule); below 100 ms JetStream
	// refuses it.
	Interval time.Duration
	// Timeout is how long a slot is held (its key refreshed) when its
	// release never comes: after it the key expires by itself. Default
	// 30 s.
	Timeout time.Duration
	// Replicas of the bucket on a clustered NATS; default 1.
	Replicas int
	// REST, when set, makes the limiter keep the bot's daily session
	// start budget (Get Gateway Bot's session_start_limit) for every
	// process that shares the bucket, in key-value beside it (bucket
	// <Bucket>_budget): each slot spends one start, and a slot that would
	// leave Reserve or fewer is refused with a *shard.IdentifyBudgetError
	// (matching shard.ErrIdentifyBudget) and a warning saying when the
	// budget resets. A Manager guards only its own copy
	// (ManagerConfig.IdentifyReserve), which cannot see what the other
	// processes spend.
	REST *rest.Client
	// Reserve is the session starts the fleet never spends (with REST).
	Reserve int
	// BudgetRefresh is how old the shared copy of session_start_limit
	// may grow before a member asks Get Gateway Bot again;
	// shard.DefaultBudgetRefresh if 0.
	BudgetRefresh time.Duration
	// Logger receives diagnostics. Nil logs nothing.
	Logger *slog.Logger
}

// IdentifyLimiter hands out IDENTIFY slots to the shards of one bot spread
// over many processes and machines: it is the shard Manager's
// IdentifyLimiter (gateway/shard) on JetStream key-value. A slot is a key
// per identify bucket, created only if absent, whose TTL is Interval; the
// holder refreshes it until it releases the slot (READY or failure) and
// then lets it expire, so no two shards of a bucket identify within
// Interval of each other, whichever machines they run on, and a holder
// that dies frees its bucket after Interval.
//
// With LimiterConfig.REST it also keeps the daily session start budget
// for the whole fleet, so a reconnect storm on many machines at once
// cannot spend it below the reserve.
type IdentifyLimiter struct {
	kv     jetstream.KeyValue
	budget jetstream.KeyValue // nil without REST
	cfg    LimiterConfig
	holder []byte
	poll   time.Duration
	log    *slog.Logger
}

// ErrIdentifyKey: a key-value operation of the IdentifyLimiter failed
// other than by the key being taken.
var ErrIdentifyKey = errors.New("natsipc: identify key")

// NewIdentifyLimiter creates (or updates) the key-value bucket on nc's
// JetStream and returns a limiter using it.
func NewIdentifyLimiter(ctx context.Context, nc *nats.Conn, cfg LimiterConfig) (*IdentifyLimiter, error) {
	if cfg.MaxConcurrency <= 0 {
		return nil, fmt.Errorf("%w: IdentifyLimiter needs MaxConcurrency ≥ 1, got %d", ErrConfig, cfg.MaxConcurrency)
	}
	if cfg.Bucket == "" {
		cfg.Bucket = "ipcord_identify"
	}
	if cfg.Interval <= 0 {
		cfg.Interval = 5 * time.Second
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, fmt.Errorf("natsipc: JetStream: %w", err)
	}
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      cfg.Bucket,
		Description: "ipcord: one key per Discord identify bucket",
		TTL:         cfg.Interval,
		History:     1,
		Replicas:    max(cfg.Replicas, 1),
	})
	if err != nil {
		return nil, fmt.Errorf("natsipc: creating key-value bucket %q: %w", cfg.Bucket, err)
	}
	var budget jetstream.KeyValue
	if cfg.REST != nil {
		if cfg.Reserve < 0 {
			return nil, fmt.Errorf("%w: IdentifyLimiter: negative Reserve %d", ErrConfig, cfg.Reserve)
		}
		if cfg.BudgetRefresh <= 0 {
			cfg.BudgetRefresh = shard.DefaultBudgetRefresh
		}
		budget, err = js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
			Bucket:      cfg.Bucket + "_budget",
			Description: "ipcord: the bot's daily session start budget",
			History:     1,
			Replicas:    max(cfg.Replicas, 1),
		})
		if err != nil {
			return nil, fmt.Errorf("natsipc: creating key-value bucket %q: %w", cfg.Bucket+"_budget", err)
		}
	}
	l := &IdentifyLimiter{
		kv:     kv,
		budget: budget,
		cfg:    cfg,
		holder: []byte(nc.NewInbox()),
		// Expiry is noticed by polling: a watcher sees no event when a key
		// ages out (unless the server keeps limit markers, 2.11+).
		poll: max(cfg.Interval/20, 5*time.Millisecond),
		log:  cfg.Logger,
	}
	if l.log == nil {
		l.log = slog.New(slog.DiscardHandler)
	}
	return l, nil
}

// Acquire blocks until shardID may IDENTIFY now, or ctx ends. The caller
// must call release exactly once: with nil when READY arrived, with the
// reason otherwise. Errors of JetStream (no server, no quorum) are retried
// until ctx ends, which is then reported with the last of them.
func (l *IdentifyLimiter) Acquire(ctx context.Context, shardID int) (release func(error), err error) {
	if shardID < 0 {
		return nil, fmt.Errorf("%w: negative shard id %d", ErrConfig, shardID)
	}
	key := "bucket." + strconv.Itoa(shardID%l.cfg.MaxConcurrency)
	var last error
	for {
		rev, err := l.kv.Create(ctx, key, l.holder)
		if err == nil && l.budget != nil {
			if err := l.spend(ctx, shardID); err != nil {
				// No IDENTIFY goes out: the bucket is free at once.
				dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), l.cfg.Interval)
				l.kv.Delete(dctx, key, jetstream.LastRevision(rev))
				cancel()
				return nil, err
			}
		}
		if err == nil {
			return l.hold(key, rev), nil
		}
		if !errors.Is(err, jetstream.ErrKeyExists) {
			last = err
			l.log.Debug("natsipc: identify key", "key", key, "err", err)
		}
		t := time.NewTimer(l.poll)
		select {
		case <-ctx.Done():
			t.Stop()
			if last != nil {
				return nil, fmt.Errorf("%w: %w (last error: %w)", ErrIdentifyKey, context.Cause(ctx), last)
			}
			return nil, context.Cause(ctx)
		case <-t.C:
		}
	}
}

// hold keeps key alive until release or Timeout.
func (l *IdentifyLimiter) hold(key string, rev uint64) func(error) {
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		refresh := time.NewTicker(max(l.cfg.Interval/3, time.Millisecond))
		defer refresh.Stop()
		giveUp := time.NewTimer(l.cfg.Timeout)
		defer giveUp.Stop()
		for {
			select {
			case <-stop:
				// A last refresh, so the next IDENTIFY of the bucket is
				// at least Interval after this one's end.
				ctx, cancel := context.WithTimeout(context.Background(), l.cfg.Interval)
				if _, err := l.kv.Update(ctx, key, l.holder, rev); err != nil {
					l.log.Debug("natsipc: refreshing an identify key at release", "key", key, "err", err)
				}
				cancel()
				return
			case <-giveUp.C:
				l.log.Warn("natsipc: identify slot never released; letting it expire", "key", key)
				return
			case <-refresh.C:
			}
			ctx, cancel := context.WithTimeout(context.Background(), l.cfg.Interval)
			next, err := l.kv.Update(ctx, key, l.holder, rev)
			cancel()
			if err != nil {
				// Lost (expired while NATS was unreachable, or taken): the
				// bucket's rule is then kept by whoever holds it now.
				l.log.Warn("natsipc: refreshing an identify key", "key", key, "err", err)
				return
			}
			rev = next
		}
	}()
	var once sync.Once
	return func(error) {
		once.Do(func() {
			close(stop)
			<-done
		})
	}
}
