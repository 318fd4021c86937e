package shard

import (
	"context"
	"fmt"
	"slices"

	"github.com/ipcord/ipcord/gateway"
)

// HandOff stops running shard id here at a dispatch boundary (see
// Shard.HandOff) and returns the session a successor resumes, so that no
// event is lost or repeated. The Manager forgets the shard: Adopt takes it
// back. It fails with ErrShardNotHeld when the Manager does not run id,
// and with ctx's error when ctx ends before the shard stopped (it then
// keeps running here).
func (m *Manager) HandOff(ctx context.Context, id int) (gateway.Session, error) {
	m.mu.Lock()
	s := m.shards[id]
	if s == nil {
		m.mu.Unlock()
		return gateway.Session{}, fmt.Errorf("%w: shard %d", ErrShardNotHeld, id)
	}
	m.removeLocked(id)
	m.mu.Unlock()
	sess, err := s.HandOff(ctx)
	if err != nil {
		m.mu.Lock()
		if m.shards != nil && m.shards[id] == nil {
			m.addLocked(id, s)
		}
		m.mu.Unlock()
		return gateway.Session{}, err
	}
	return sess, nil
}

// Adopt starts running shard id here, resuming sess (a session another
// process handed off; an invalid one makes the shard IDENTIFY). The shard
// connects at once, but its handler receives nothing until the returned
// Adoption's Deliver: until the previous owner confirms it has let go, the
// successor must be able to back out without having handled an event. It
// waits for Run to size the shards, and fails with ErrNotRunning once Run
// has returned, ErrShardHeld when id already runs here, and ErrConfig for
// an id out of range.
func (m *Manager) Adopt(ctx context.Context, id int, sess gateway.Session) (*Adoption, error) {
	select {
	case <-m.sized:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.rctx == nil {
		return nil, ErrNotRunning
	}
	if id < 0 || id >= m.count {
		return nil, fmt.Errorf("%w: shard id %d of %d", ErrConfig, id, m.count)
	}
	if m.shards[id] != nil {
		return nil, fmt.Errorf("%w: shard %d", ErrShardHeld, id)
	}
	s, err := m.newShard(id, m.count, m.url, m.limiter, m.connects, sess)
	if err != nil {
		return nil, err
	}
	s.gate = make(chan struct{})
	m.addLocked(id, s)
	m.startLocked(s)
	return &Adoption{m: m, s: s}, nil
}

// ShardCount is the bot's total number of shards, 0 until Run has sized
// them.
func (m *Manager) ShardCount() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.count
}

// Shards returns the ids of the shards running here, in order.
func (m *Manager) Shards() []int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.ids)
}

func (m *Manager) addLocked(id int, s *Shard) {
	m.shards[id] = s
	i, _ := slices.BinarySearch(m.ids, id)
	m.ids = slices.Insert(m.ids, i, id)
}

func (m *Manager) removeLocked(id int) {
	delete(m.shards, id)
	if i, ok := slices.BinarySearch(m.ids, id); ok {
		m.ids = slices.Delete(m.ids, i, i+1)
	}
}

// Adoption is a shard a Manager adopted and holds back from its handler
// until Deliver or Abandon.
type Adoption struct {
	m *Manager
	s *Shard
}

// Shard is the adopted shard.
func (a *Adoption) Shard() *Shard { return a.s }

// Wait blocks until the shard's connection gets going (RESUMED, or READY
// when it had to IDENTIFY), or fails with ErrNotRunning when the shard
// stopped first, or with ctx's error.
func (a *Adoption) Wait(ctx context.Context) error {
	select {
	case <-a.s.going:
		return nil
	case <-a.s.done:
		if err := a.s.Status().LastError; err != nil {
			return fmt.Errorf("%w: %w", ErrNotRunning, err)
		}
		return ErrNotRunning
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Deliver lets the handler receive the shard's events, from the first
// one after the adopted session's seq. Call it once.
func (a *Adoption) Deliver() { close(a.s.gate) }

// Abandon stops the adopted shard without having delivered an event (the
// connection closes with 4000) and forgets it, so the previous owner can
// take the shard back; it returns the session as it stands, whose Seq is
// still the adopted one. Call it instead of Deliver, not after.
func (a *Adoption) Abandon(ctx context.Context) (gateway.Session, error) {
	err := a.s.Close(ctx, false)
	a.m.mu.Lock()
	if a.m.shards[a.s.ID()] == a.s {
		a.m.removeLocked(a.s.ID())
	}
	a.m.mu.Unlock()
	if err != nil {
		return gateway.Session{}, err
	}
	return a.s.Session(), nil
}
