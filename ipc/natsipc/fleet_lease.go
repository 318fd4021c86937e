package natsipc

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Fencing: at no moment may two members run one shard (Discord, like the
// fake, drops one of two connections on a session, and the loser's
// reconnect fights the winner). A lease is a key in a bucket whose TTL
// makes NATS drop it LeaseTTL after its last write by the server's count.
// A member cannot know when the server stored its write, only that it sent
// it at t, so the lease holds until t+LeaseTTL at the earliest: the member
// treats it as good until t+LeaseTTL-margin on its monotonic clock, and by
// then it has stopped the shard unless a later renewal succeeded. Renewals
// and the fence run on goroutines of their own, so a slow balance, handoff
// or checkpoint never makes a lease lapse under a live member. A taker
// never overwrites a lease it did not see expire or hand over: free shards
// are taken by Create, pulled ones by an Update on the revision the giver
// held (a compare-and-set), and a shard whose fence deadline passed is
// stopped for good, never extended by a renewal that answers late.

// lease is this member's lease on one shard.
type lease struct {
	rev   uint64    // the revision this member last wrote
	until time.Time // monotonic: the shard must be stopped by then
}

// renewEvery is how often leases are renewed: several tries fit before a
// lease's fence deadline.
func (f *Fleet) renewEvery() time.Duration { return f.cfg.LeaseTTL / 5 }

// margin is how long before the earliest moment NATS could drop a lease
// its holder has stopped the shard.
func (f *Fleet) margin() time.Duration { return f.cfg.LeaseTTL / 4 }

// hold records a lease on id whose write (revision rev) was sent at sent.
func (f *Fleet) hold(id int, rev uint64, sent time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.held[id] = lease{rev: rev, until: sent.Add(f.cfg.LeaseTTL - f.margin())}
	delete(f.fenced, id)
}

// Holds reports whether this member may still act on shard id's events:
// false once its lease on id is past the fence deadline (a renewal failed
// or came too late), from which moment the shard is being stopped because
// another member may take it over. The Fleet stops such a shard on its
// own; a handler that must never act on an event another member may also
// handle, even when this process is starved of CPU past the deadline,
// drops the event when Holds is false (the member that takes the shard
// over resumes from a checkpoint taken before the deadline, so nothing is
// lost). A shard this member holds no lease on is not fenced: true.
func (f *Fleet) Holds(id int) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fenced[id] {
		return false
	}
	l, ok := f.held[id]
	return !ok || time.Now().Before(l.until)
}

// leased reports whether this member holds a current lease on id: what a
// checkpoint write needs.
func (f *Fleet) leased(id int) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	l, ok := f.held[id]
	return ok && !f.fenced[id] && time.Now().Before(l.until)
}

// keep renews the leases until ctx ends.
func (f *Fleet) keep(ctx context.Context) {
	t := time.NewTicker(f.renewEvery())
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if f.renewPaused.Load() {
			continue
		}
		f.renew(ctx)
	}
}

// renew renews the lease of every shard running or lent here. A lease
// whose renewal is refused (another member's revision) is fenced at once.
func (f *Fleet) renew(ctx context.Context) {
	here := f.here()
	f.mu.Lock()
	todo := make(map[int]lease, len(f.held))
	for id, l := range f.held {
		if !slices.Contains(here, id) {
			// Committed to a successor, which took the lease over.
			delete(f.held, id)
			continue
		}
		todo[id] = l
	}
	f.mu.Unlock()
	for id, l := range todo {
		if !time.Now().Before(l.until) {
			continue // the fence has it
		}
		rctx, cancel := context.WithDeadline(ctx, l.until)
		sent := time.Now()
		rev, err := f.leases.Update(rctx, leaseKey(id), []byte(f.me), l.rev)
		cancel()
		f.mu.Lock()
		cur, ok := f.held[id]
		switch {
		case !ok || cur.rev != l.rev:
			// Fenced, or moved, meanwhile.
		case err == nil && time.Now().Before(cur.until):
			f.held[id] = lease{rev: rev, until: sent.Add(f.cfg.LeaseTTL - f.margin())}
		case err == nil:
			// Renewed, but past the deadline: a handler may already have
			// dropped an event on Holds' word, so the shard stops anyway.
		case errors.Is(err, jetstream.ErrKeyRevisionMismatch):
			// Another member's lease, or none (it lapsed): stop the shard now.
			f.fenceLocked(id)
		}
		f.mu.Unlock()
		if err != nil && ctx.Err() == nil {
			f.log.Warn("natsipc: fleet: renewing a lease", "shard", id, "err", err)
		}
	}
	f.wakeFence()
}

// here returns the shards running or lent here.
func (f *Fleet) here() []int {
	return slices.Concat(f.cfg.Manager.Shards(), f.cfg.Source.Lent())
}

// fenceLocked marks id to be stopped. f.mu must be held.
func (f *Fleet) fenceLocked(id int) {
	delete(f.held, id)
	f.fenced[id] = true
}

func (f *Fleet) wakeFence() {
	select {
	case f.fenceWake <- struct{}{}:
	default:
	}
}

// fence stops every shard whose lease is past its deadline, until ctx
// ends: it sleeps until the earliest deadline.
func (f *Fleet) fence(ctx context.Context) {
	t := time.NewTimer(f.renewEvery())
	defer t.Stop()
	for {
		next := time.Now().Add(f.renewEvery())
		var stop []int
		f.mu.Lock()
		now := time.Now()
		for id, l := range f.held {
			if !now.Before(l.until) {
				f.fenceLocked(id)
			} else if l.until.Before(next) {
				next = l.until
			}
		}
		for id := range f.fenced {
			stop = append(stop, id)
		}
		f.mu.Unlock()
		for _, id := range stop {
			f.stopFenced(ctx, id)
		}
		t.Reset(time.Until(next))
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-f.fenceWake:
		}
	}
}

// stopFenced stops fenced shard id if it runs here, and forgets the fence
// once it neither runs nor is lent here. A stop that does not finish in a
// margin (the shard is dialing, say) is tried again at the next round;
// meanwhile Holds keeps its handler from acting.
func (f *Fleet) stopFenced(ctx context.Context, id int) {
	if !slices.Contains(f.here(), id) {
		f.mu.Lock()
		delete(f.fenced, id)
		f.mu.Unlock()
		return
	}
	if f.cfg.Manager.Shard(id) == nil {
		return // lent: stopped already; a take-back is stopped next round
	}
	f.log.Warn("natsipc: fleet: lease not renewed in time; stopping the shard before another member can take it", "shard", id)
	sctx, cancel := context.WithTimeout(ctx, f.margin())
	_, err := f.cfg.Manager.HandOff(sctx, id)
	cancel()
	if err != nil && ctx.Err() == nil {
		f.log.Warn("natsipc: fleet: stopping a fenced shard; trying again", "shard", id, "err", err)
	}
}

// takeLease takes over the lease of shard id that member from handed over
// (a handoff it committed): a compare-and-set on from's revision, or a
// Create when the lease lapsed meanwhile. It fails when another member
// holds the lease, which then keeps the shard; errors that say nothing
// about the owner are retried until ctx ends.
func (f *Fleet) takeLease(ctx context.Context, id int, from string) error {
	wait := 10 * time.Millisecond
	for {
		var rev uint64
		sent := time.Now()
		e, err := f.leases.Get(ctx, leaseKey(id))
		switch {
		case errors.Is(err, jetstream.ErrKeyNotFound):
			sent = time.Now()
			rev, err = f.leases.Create(ctx, leaseKey(id), []byte(f.me))
		case err == nil && (string(e.Value()) == from || string(e.Value()) == f.me):
			sent = time.Now()
			rev, err = f.leases.Update(ctx, leaseKey(id), []byte(f.me), e.Revision())
		case err == nil:
			return fmt.Errorf("%w: shard %d is leased to %s", ErrFleet, id, strconv.Quote(string(e.Value())))
		}
		if err == nil {
			f.hold(id, rev, sent)
			return nil
		}
		// A lost race (the giver's last renewal, another taker) is read
		// again; so is a NATS error.
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w: taking the lease of shard %d: %w", ErrFleet, id, err)
		case <-time.After(wait):
		}
		wait = min(2*wait, 200*time.Millisecond)
	}
}
