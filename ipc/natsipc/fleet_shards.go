package natsipc

import (
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ipcord/ipcord/gateway/shard"
	"github.com/ipcord/ipcord/gateway/shard/handoff"
	"github.com/nats-io/nats.go/jetstream"
)

// Which member holds which shard: a lease per shard in the leases bucket,
// renewed while held (fleet_lease.go); balance claims the free ones and
// pulls shards from members above their share, by handoff.

// leaseKey is shard id's key in the lease and checkpoint buckets.
func leaseKey(id int) string { return "shard." + strconv.Itoa(id) }

// members returns the members taking shards (not leaving), sorted.
func (f *Fleet) members(ctx context.Context) []string {
	ms := append(f.cfg.Node.Members(), f.me)
	slices.Sort(ms)
	ms = slices.Compact(ms)
	out := ms[:0]
	for _, m := range ms {
		if e, err := f.leases.Get(ctx, "leaving."+m); err == nil && e != nil {
			continue
		}
		out = append(out, m)
	}
	return out
}

// owners reads the lease bucket: shard -> member.
func (f *Fleet) owners(ctx context.Context) map[int]string {
	out := map[int]string{}
	keys, err := f.leases.ListKeys(ctx)
	if err != nil {
		return out
	}
	for k := range keys.Keys() {
		rest, ok := strings.CutPrefix(k, "shard.")
		if !ok {
			continue
		}
		id, err := strconv.Atoi(rest)
		if err != nil {
			continue
		}
		if e, err := f.leases.Get(ctx, k); err == nil {
			out[id] = string(e.Value())
		}
	}
	return out
}

// balance takes free shards (never leased, or whose owner died) and pulls
// shards by handoff from members holding more than their share.
func (f *Fleet) balance(ctx context.Context) {
	f.mu.Lock()
	leaving := f.leaving
	f.mu.Unlock()
	count := f.cfg.Manager.ShardCount()
	if leaving || count == 0 {
		return
	}
	members := f.members(ctx)
	if !slices.Contains(members, f.me) {
		return
	}
	// Even shares: every member ends with lo or hi shards.
	lo, hi := count/len(members), (count+len(members)-1)/len(members)
	owners := f.owners(ctx)
	held := len(f.cfg.Manager.Shards())
	for id := 0; id < count; id++ {
		if _, ok := owners[id]; ok {
			continue
		}
		// Past its share a member still takes an orphan (a shard with a
		// checkpoint: its owner died) rather than leave it deaf; the
		// balance moves it on later.
		if held >= hi && !f.orphan(ctx, id) {
			continue
		}
		if f.claim(ctx, id) {
			held++
		}
	}
	if held >= hi {
		return
	}
	load := map[string][]int{}
	for id, m := range owners {
		if m != f.me {
			load[m] = append(load[m], id)
		}
	}
	// A member below lo takes from those above lo, one below hi only from
	// those above hi, so no shard moves back and forth; a leaving member
	// gives all of its own.
	for m, ids := range load {
		slices.Sort(ids)
		leaving := !slices.Contains(members, m)
		for left := len(ids); left > 0 && held < hi; {
			floor := hi
			switch {
			case leaving:
				floor = 0
			case held < lo:
				floor = lo
			}
			if left <= floor {
				break
			}
			left--
			if f.pull(ctx, m, ids[left]) {
				held++
			}
		}
	}
}

func (f *Fleet) orphan(ctx context.Context, id int) bool {
	e, err := f.ckpts.Get(ctx, leaseKey(id))
	return err == nil && e != nil
}

// claim leases a free shard and resumes it from its checkpoint (or
// identifies it when it has none).
func (f *Fleet) claim(ctx context.Context, id int) bool {
	sent := time.Now()
	rev, err := f.leases.Create(ctx, leaseKey(id), []byte(f.me))
	if err != nil {
		return false
	}
	drop := func() { f.leases.Delete(ctx, leaseKey(id), jetstream.LastRevision(rev)) }
	var cp checkpoint
	if e, err := f.ckpts.Get(ctx, leaseKey(id)); err == nil {
		json.Unmarshal(e.Value(), &cp)
	}
	skipped, err := f.dedupe(ctx, id, &cp.Session)
	if err != nil {
		f.log.Warn("natsipc: fleet: reading the mark of a free shard; leaving it for a later try", "shard", id, "err", err)
		drop()
		return false
	}
	a, err := f.cfg.Manager.Adopt(ctx, id, cp.Session)
	if err != nil {
		f.log.Warn("natsipc: fleet: adopting a free shard", "shard", id, "err", err)
		drop()
		return false
	}
	// Held from the Create's send: the fence deadline counts from there.
	f.hold(id, rev, sent)
	if f.cfg.Import != nil && cp.State != nil {
		f.cfg.Import(id, cp.State)
	}
	a.Deliver()
	f.log.Info("natsipc: fleet: took a free shard", "shard", id, "from_seq", cp.Session.Seq, "session", cp.Session.Valid(), "skipped", skipped)
	f.wg.Go(func() { f.checkpointFirst(ctx, a) })
	return true
}

// checkpointFirst checkpoints an adopted shard as soon as its handler has
// handled an event of its session, not at the next interval: a new
// session (from IDENTIFY) is known to nobody else, and a crash before its
// first checkpoint would cost an IDENTIFY more.
func (f *Fleet) checkpointFirst(ctx context.Context, a *shard.Adoption) {
	if a.Wait(ctx) != nil {
		return
	}
	t := time.NewTicker(5 * time.Millisecond)
	defer t.Stop()
	for a.Shard().Session().Seq == 0 {
		if a.Shard().Status().State == shard.StateStopped {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
	f.checkpointOne(ctx, a.Shard().ID())
}

// pull takes shard id from member m by handoff. The lease moves once m
// has let go and before the first event reaches the handler (a
// compare-and-set: if another member took the lease meanwhile, it keeps
// the shard), and the checkpoint is written then too, so that a crash
// right after the move resumes from where m stopped.
func (f *Fleet) pull(ctx context.Context, m string, id int) bool {
	moved, err := handoff.TakeOver(ctx, f.cfg.Node.Cluster(m), f.cfg.Manager, &handoff.Options{
		Shards: []int{id}, Logger: f.cfg.Logger,
		Claim: func(ctx context.Context, id int) error { return f.takeLease(ctx, id, m) },
		Import: func(id int, state json.RawMessage) {
			if f.cfg.Import != nil {
				f.cfg.Import(id, state)
			}
			f.checkpointOne(ctx, id)
		},
	})
	if err != nil || len(moved) == 0 {
		f.log.Debug("natsipc: fleet: pulling a shard", "shard", id, "from", m, "err", err)
		return false
	}
	f.log.Info("natsipc: fleet: took a shard by handoff", "shard", id, "from", m, "deaf", moved[0].Deaf)
	return true
}
