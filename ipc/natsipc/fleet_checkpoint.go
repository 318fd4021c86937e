package natsipc

import (
	"context"
	"encoding/json"
	"time"

	"github.com/ipcord/ipcord/gateway"
)

// Where a shard's events are up to: a checkpoint per shard (its session
// and the application's state), which the member that takes a dead
// member's shard resumes from, moved up to the shard's mark with dedupe.

// checkpoint is a shard's value in the checkpoint bucket.
type checkpoint struct {
	Session gateway.Session `json:"session"`
	State   json.RawMessage `json:"state,omitempty"`
}

// dedupe moves a checkpointed session's seq up to the shard's mark, when
// Marks has one of the same session, and returns how many events that
// skips. A mark of another session (one the dead member started after
// its last checkpoint, whose resume URL nobody saved) cannot be resumed
// and is ignored.
func (f *Fleet) dedupe(ctx context.Context, id int, sess *gateway.Session) (int64, error) {
	if f.cfg.Marks == nil || !sess.Valid() {
		return 0, nil
	}
	mk, err := f.cfg.Marks.Handled(ctx, id)
	if err != nil {
		return 0, err
	}
	if mk.Session != sess.ID {
		if mk.Session != "" {
			f.log.Debug("natsipc: fleet: the mark is of another session than the checkpoint", "shard", id, "mark", mk.Session)
		}
		return 0, nil
	}
	if mk.Seq <= sess.Seq {
		return 0, nil
	}
	skipped := mk.Seq - sess.Seq
	sess.Seq = mk.Seq
	return skipped, nil
}

// checkpoints checkpoints the shards held every CheckpointInterval, and
// within CheckpointEvents events, until ctx ends.
func (f *Fleet) checkpoints(ctx context.Context) {
	t := time.NewTicker(f.cfg.CheckpointInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-f.kick:
		}
		f.checkpoint(ctx)
	}
}

// checkpoint saves the sessions of the shards held that moved on.
func (f *Fleet) checkpoint(ctx context.Context) {
	f.mu.Lock()
	f.events = 0
	f.mu.Unlock()
	for _, id := range f.cfg.Manager.Shards() {
		f.checkpointOne(ctx, id)
	}
}

// checkpointOne saves shard id's session if it moved on since the last
// checkpoint and this member's lease on id is current. The session is read
// before the lease is checked: every event it counts was handled before
// the fence deadline, so an event a fenced handler dropped is never
// counted as handled.
func (f *Fleet) checkpointOne(ctx context.Context, id int) {
	// Checkpoints come from the checkpoint loop, a pull and a leave at
	// once: one at a time, each reading the session it writes, so none
	// overwrites a later one.
	f.saveMu.Lock()
	defer f.saveMu.Unlock()
	s := f.cfg.Manager.Shard(id)
	if s == nil {
		return
	}
	sess := s.Session()
	if !f.leased(id) {
		return
	}
	f.mu.Lock()
	same := f.saved[id] == sess
	f.mu.Unlock()
	// A session none of whose events was handled yet is not written: a
	// RESUME from seq 0 would replay READY, which no client takes.
	if same || !sess.Valid() || sess.Seq == 0 {
		return
	}
	if err := f.save(ctx, id, sess); err != nil {
		if ctx.Err() == nil {
			f.log.Warn("natsipc: fleet: checkpoint", "shard", id, "err", err)
		}
		return
	}
	f.mu.Lock()
	f.saved[id] = sess
	f.mu.Unlock()
}

// save writes shard id's checkpoint: sess and the application's state.
func (f *Fleet) save(ctx context.Context, id int, sess gateway.Session) error {
	cp := checkpoint{Session: sess}
	if f.cfg.Export != nil {
		cp.State = f.cfg.Export(id)
	}
	b, _ := json.Marshal(cp)
	_, err := f.ckpts.Put(ctx, leaseKey(id), b)
	return err
}
