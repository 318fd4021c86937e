package natsipc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/ipcord/ipcord/gateway/shard"
)

// budgetKey holds the fleet's copy of session_start_limit.
const budgetKey = "budget"

// budgetTries bounds the compare-and-set rounds of one spend, so members
// racing for the last starts settle without a livelock.
const budgetTries = 20

// budgetState is the value under budgetKey.
type budgetState struct {
	Total     int       `json:"total"`
	Remaining int       `json:"remaining"`
	ResetAt   time.Time `json:"reset_at"`
	// Fetched is when Get Gateway Bot last answered (or failed: a failure
	// waits for the next refresh too).
	Fetched time.Time `json:"fetched"`
}

// spend takes one session start from the fleet's budget, or refuses with
// a *shard.IdentifyBudgetError when that would leave fewer than the
// reserve. The copy in key-value is changed by compare-and-set, so two
// members never spend the same start.
func (l *IdentifyLimiter) spend(ctx context.Context, shardID int) error {
	var last error
	for range budgetTries {
		var st budgetState
		var rev uint64
		e, err := l.budget.Get(ctx, budgetKey)
		switch {
		case errors.Is(err, jetstream.ErrKeyNotFound):
		case err != nil:
			return fmt.Errorf("%w: reading the session start budget: %w", ErrIdentifyKey, err)
		default:
			// A value that does not decode is unknown, and overwritten by
			// what Get Gateway Bot says.
			rev = e.Revision()
			if json.Unmarshal(e.Value(), &st) != nil {
				st = budgetState{}
			}
		}
		now := time.Now()
		if st.Fetched.IsZero() || now.Sub(st.Fetched) >= l.cfg.BudgetRefresh {
			st = l.fetch(ctx, st, now)
		}
		if st.Total == 0 {
			// Nothing known yet (Get Gateway Bot failing): an IDENTIFY
			// is not held up by a REST outage.
			return nil
		}
		if !now.Before(st.ResetAt) {
			st.Remaining, st.ResetAt = st.Total, now.Add(24*time.Hour)
		}
		if st.Remaining <= l.cfg.Reserve {
			err := &shard.IdentifyBudgetError{Remaining: st.Remaining, Reserve: l.cfg.Reserve, ResetAt: st.ResetAt}
			l.log.Warn("natsipc: IDENTIFY refused to keep the fleet's session start reserve",
				"shard", shardID, "remaining", err.Remaining, "reserve", err.Reserve,
				"resets_at", err.ResetAt.UTC().Format(time.RFC3339), "resets_in", err.ResetAt.Sub(now).Round(time.Second))
			return err
		}
		st.Remaining--
		b, _ := json.Marshal(st)
		if rev == 0 {
			_, err = l.budget.Create(ctx, budgetKey, b)
		} else {
			_, err = l.budget.Update(ctx, budgetKey, b, rev)
		}
		if err == nil {
			return nil
		}
		// Another member changed the budget meanwhile: read it again.
		last = err
		if ctx.Err() != nil {
			break
		}
	}
	return fmt.Errorf("%w: spending a session start: %w", ErrIdentifyKey, last)
}

// fetch asks Get Gateway Bot for the budget; a failure keeps st.
func (l *IdentifyLimiter) fetch(ctx context.Context, st budgetState, now time.Time) budgetState {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	gb, err := l.cfg.REST.GatewayBot(ctx)
	if err != nil {
		l.log.Warn("natsipc: refreshing session_start_limit", "err", err)
		st.Fetched = now
		return st
	}
	s := gb.SessionStartLimit
	return budgetState{Total: s.Total, Remaining: s.Remaining, ResetAt: now.Add(time.Duration(s.ResetAfter) * time.Millisecond), Fetched: now}
}
