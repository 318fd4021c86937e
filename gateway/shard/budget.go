package shard

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/ipcord/ipcord/discord"
	"github.com/ipcord/ipcord/rest"
)

// DefaultBudgetRefresh is how old the Manager lets its copy of
// session_start_limit grow before asking Get Gateway Bot again.
const DefaultBudgetRefresh = time.Minute

// IdentifyBudgetError is the refusal of an IDENTIFY that would spend the
// session start budget (Get Gateway Bot's session_start_limit) below the
// Manager's IdentifyReserve: Discord resets a bot's token when the budget
// runs out, so a reconnect storm must not spend it. The shard stays
// disconnected, says so in Status.LastError, and tries again with backoff,
// which succeeds once the budget resets. It matches ErrIdentifyBudget.
type IdentifyBudgetError struct {
	Remaining int       // session starts left
	Reserve   int       // what the Manager keeps unspent
	ResetAt   time.Time // when Discord refills the budget
}

func (e *IdentifyBudgetError) Error() string {
	return fmt.Sprintf("shard: IDENTIFY refused: %d session starts left, reserve %d; the budget resets at %s",
		e.Remaining, e.Reserve, e.ResetAt.UTC().Format(time.RFC3339))
}

// Is makes errors.Is(err, ErrIdentifyBudget) true.
func (e *IdentifyBudgetError) Is(target error) bool { return target == ErrIdentifyBudget }

// budgetGuard is the IdentifyLimiter in front of a Manager's own: it keeps
// a copy of session_start_limit, spends one per IDENTIFY, refreshes it from
// Get Gateway Bot, and refuses slots that would leave fewer than reserve.
type budgetGuard struct {
	inner   IdentifyLimiter
	rest    *rest.Client
	reserve int
	refresh time.Duration
	clock   Clock
	log     *slog.Logger

	mu        sync.Mutex
	limit     discord.SessionStartLimit
	known     bool
	resetAt   time.Time
	fetched   time.Time
	refreshMu sync.Mutex // one Get Gateway Bot at a time
}

func newBudgetGuard(inner IdentifyLimiter, c *rest.Client, l discord.SessionStartLimit, reserve int, refresh time.Duration, clock Clock, log *slog.Logger) *budgetGuard {
	if refresh <= 0 {
		refresh = DefaultBudgetRefresh
	}
	g := &budgetGuard{inner: inner, rest: c, reserve: reserve, refresh: refresh, clock: clock, log: log}
	g.set(l)
	return g
}

func (g *budgetGuard) set(l discord.SessionStartLimit) {
	now := g.clock.Now()
	g.mu.Lock()
	// A zero limit is unknown (Get Gateway Bot failed at start): nothing
	// is refused until an answer comes.
	g.known = l != (discord.SessionStartLimit{})
	g.limit, g.fetched = l, now
	g.resetAt = now.Add(time.Duration(l.ResetAfter) * time.Millisecond)
	g.mu.Unlock()
}

// Acquire implements IdentifyLimiter.
func (g *budgetGuard) Acquire(ctx context.Context, shardID int) (func(error), error) {
	if err := g.allow(ctx, shardID, false); err != nil {
		return nil, err
	}
	release, err := g.inner.Acquire(ctx, shardID)
	if err != nil {
		return nil, err
	}
	// Other shards may have spent the budget while this one waited.
	if err := g.allow(ctx, shardID, true); err != nil {
		release(err)
		return nil, err
	}
	return release, nil
}

// allow refreshes the budget when stale and checks it, spending one start
// if spend is set.
func (g *budgetGuard) allow(ctx context.Context, shardID int, spend bool) error {
	now := g.clock.Now()
	g.mu.Lock()
	stale := now.Sub(g.fetched) >= g.refresh
	g.mu.Unlock()
	if stale {
		g.fetch(ctx)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.known && !now.Before(g.resetAt) {
		// Discord refilled it; the next fetch says by how much exactly.
		g.limit.Remaining = g.limit.Total
		g.resetAt = now.Add(24 * time.Hour)
	}
	if g.known && g.limit.Remaining <= g.reserve {
		err := &IdentifyBudgetError{Remaining: g.limit.Remaining, Reserve: g.reserve, ResetAt: g.resetAt}
		g.log.Warn("shard: IDENTIFY refused to keep the session start budget's reserve",
			"shard", shardID, "remaining", err.Remaining, "reserve", err.Reserve,
			"resets_at", err.ResetAt.UTC().Format(time.RFC3339), "resets_in", err.ResetAt.Sub(now).Round(time.Second))
		return err
	}
	if spend {
		g.limit.Remaining--
	}
	return nil
}

// fetch asks Get Gateway Bot for the budget; a failure keeps the copy.
func (g *budgetGuard) fetch(ctx context.Context) {
	g.refreshMu.Lock()
	defer g.refreshMu.Unlock()
	g.mu.Lock()
	fresh := g.clock.Now().Sub(g.fetched) < g.refresh
	g.mu.Unlock()
	if fresh {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	gb, err := g.rest.GatewayBot(ctx)
	if err != nil {
		g.log.Warn("shard: refreshing session_start_limit", "err", err)
		g.mu.Lock()
		g.fetched = g.clock.Now() // try again after refresh, not at every IDENTIFY
		g.mu.Unlock()
		return
	}
	g.set(gb.SessionStartLimit)
}
