package handoff

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/ipcord/ipcord/gateway"
	"github.com/ipcord/ipcord/gateway/shard"
	"github.com/ipcord/ipcord/ipc"
)

// DefaultLendTimeout is how long a released shard waits for its commit
// before the Source takes it back.
const DefaultLendTimeout = 15 * time.Second

// Source serves the shards of a running Manager to successors: register
// it on the Router of the process's ipc server (whose secret authenticates
// the successor), and the successor's TakeOver moves them. The zero value
// is not usable: set Manager.
type Source struct {
	// Manager runs the shards to hand off.
	Manager *shard.Manager
	// Export returns the application's state for a shard, carried to the
	// successor's Import with the session. It runs after the shard
	// stopped, so the state covers exactly the events handled. Optional.
	Export func(shard int) json.RawMessage
	// LendTimeout is how long a released shard waits for the successor's
	// commit before the Source resumes it itself; DefaultLendTimeout if 0.
	// The successor must get its shard going within it.
	LendTimeout time.Duration
	// HoldTimeout is how long a takeover (RouteBegin) stays open without
	// a renewal from its successor. Until the successor's RouteFinish the
	// Source keeps the session of every shard committed under it; when
	// the renewals stop for HoldTimeout (the successor died or lost its
	// connection), it resumes those shards itself from the seq it handed
	// over. DefaultHoldTimeout if 0.
	HoldTimeout time.Duration
	// Logger receives each move at info level and failures at warn; nil
	// is silent.
	Logger *slog.Logger

	mu        sync.Mutex
	lent      map[int]*loan
	committed map[string]bool // tokens of committed leases, so a repeated commit succeeds
	takeovers map[string]*takeover
	moved     bool
	emptied   chan struct{}
	wg        sync.WaitGroup // reclaims in progress
}

// loan is a released shard waiting for its commit.
type loan struct {
	lease Lease
	timer *time.Timer
}

// Register adds the handoff routes to r. A Source without its Manager
// is an error matching shard.ErrConfig.
func (s *Source) Register(r *ipc.Router) error {
	if s.Manager == nil {
		return fmt.Errorf("%w: handoff: Source.Manager is nil", shard.ErrConfig)
	}
	s.init()
	return r.HandleAll(map[string]ipc.Handler{
		RouteOffer:   ipc.Func(func(ctx context.Context, _ struct{}) (Offer, error) { return s.offer(), nil }),
		RouteRelease: ipc.Func(s.release),
		RouteCommit:  ipc.Func(s.commit),
		RouteAbort:   ipc.Func(s.abort),
		RouteBegin:   ipc.Func(func(ctx context.Context, _ struct{}) (Takeover, error) { return s.begin(), nil }),
		RouteRenew:   ipc.Func(s.renew),
		RouteFinish:  ipc.Func(s.finish),
	})
}

func (s *Source) init() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lent == nil {
		s.lent = map[int]*loan{}
		s.committed = map[string]bool{}
		s.takeovers = map[string]*takeover{}
		s.emptied = make(chan struct{})
	}
}

// Emptied is closed once shards have moved and none is left here, running,
// lent, or kept for a takeover not yet finished: the process can exit. Register must have been called.
func (s *Source) Emptied() <-chan struct{} {
	s.init()
	return s.emptied
}

// Wait waits for the takebacks of timed-out or aborted leases in progress,
// so a test or a shutdown sees them finished.
func (s *Source) Wait() { s.wg.Wait() }

func (s *Source) log() *slog.Logger {
	if s.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Logger
}

// Lent returns the shards released and not yet committed or taken back.
func (s *Source) Lent() []int { return s.offer().Lent }

func (s *Source) offer() Offer {
	s.mu.Lock()
	lent := make([]int, 0, len(s.lent))
	for id := range s.lent {
		lent = append(lent, id)
	}
	s.mu.Unlock()
	slices.Sort(lent)
	return Offer{ShardCount: s.Manager.ShardCount(), Shards: s.Manager.Shards(), Lent: lent}
}

func (s *Source) release(ctx context.Context, a ShardArgs) (Lease, error) {
	if a.Shard < 0 {
		return Lease{}, badLease("negative shard %d", a.Shard)
	}
	// A loan without a lease marks the shard as being released, so that
	// neither a second release nor Emptied sees it as gone meanwhile.
	lo := &loan{}
	s.mu.Lock()
	if a.Takeover != "" && !s.touchLocked(a.Takeover) {
		s.mu.Unlock()
		return Lease{}, staleTakeover(a.Takeover)
	}
	if _, ok := s.lent[a.Shard]; ok {
		s.mu.Unlock()
		return Lease{}, &ipc.Error{Code: CodeNotHeld, Message: fmt.Sprintf("shard %d is already being moved", a.Shard)}
	}
	s.lent[a.Shard] = lo
	s.mu.Unlock()
	start := time.Now()
	sess, err := s.Manager.HandOff(ctx, a.Shard)
	if err != nil {
		s.mu.Lock()
		delete(s.lent, a.Shard)
		s.mu.Unlock()
		if errors.Is(err, shard.ErrShardNotHeld) {
			return Lease{}, &ipc.Error{Code: CodeNotHeld, Message: fmt.Sprintf("shard %d does not run here", a.Shard)}
		}
		return Lease{}, err
	}
	l := Lease{Shard: a.Shard, ShardCount: s.Manager.ShardCount(), Session: sess, Token: newToken(), Takeover: a.Takeover}
	if s.Export != nil {
		l.State = s.Export(a.Shard)
	}
	timeout := s.LendTimeout
	if timeout <= 0 {
		timeout = DefaultLendTimeout
	}
	s.mu.Lock()
	lo.lease = l
	lo.timer = time.AfterFunc(timeout, func() { s.takeBack(a.Shard, l.Token, "lease timed out") })
	lapsed := a.Takeover != "" && !s.touchLocked(a.Takeover)
	s.mu.Unlock()
	if lapsed {
		// The takeover lapsed while the shard stopped: nobody will commit.
		s.takeBack(a.Shard, l.Token, "takeover lapsed")
		return Lease{}, staleTakeover(a.Takeover)
	}
	s.log().Info("handoff: shard released", "shard", a.Shard, "seq", sess.Seq, "stopped_in", time.Since(start))
	return l, nil
}

func (s *Source) commit(ctx context.Context, a LeaseArgs) (struct{}, error) {
	if a.Token == "" {
		return struct{}{}, badLease("no token")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.committed[a.Token] {
		return struct{}{}, nil
	}
	lo := s.lent[a.Shard]
	if lo == nil || lo.lease.Token == "" || lo.lease.Token != a.Token {
		return struct{}{}, &ipc.Error{Code: CodeStaleLease, Message: fmt.Sprintf("no current lease of shard %d with that token", a.Shard)}
	}
	if tk := lo.lease.Takeover; tk != "" && !s.keepLocked(tk, lo.lease) {
		// The takeover lapsed: the loan is being taken back.
		return struct{}{}, staleTakeover(tk)
	}
	lo.timer.Stop()
	delete(s.lent, a.Shard)
	s.committed[a.Token] = true
	s.moved = true
	s.log().Info("handoff: shard moved", "shard", a.Shard)
	s.checkEmptyLocked()
	return struct{}{}, nil
}

// checkEmptyLocked closes emptied once shards moved and nothing is left
// here: no shard running, lent, or kept for an unfinished takeover.
func (s *Source) checkEmptyLocked() {
	if !s.moved || len(s.lent) > 0 || s.keepingLocked() || len(s.Manager.Shards()) > 0 {
		return
	}
	select {
	case <-s.emptied:
	default:
		close(s.emptied)
	}
}

func (s *Source) abort(ctx context.Context, a LeaseArgs) (struct{}, error) {
	if a.Token == "" {
		return struct{}{}, badLease("no token")
	}
	if !s.takeBack(a.Shard, a.Token, "successor aborted") {
		return struct{}{}, &ipc.Error{Code: CodeStaleLease, Message: fmt.Sprintf("no current lease of shard %d with that token", a.Shard)}
	}
	return struct{}{}, nil
}

// takeBack resumes a lent shard here, if token is still its lease.
func (s *Source) takeBack(id int, token, why string) bool {
	s.mu.Lock()
	lo := s.lent[id]
	if lo == nil || lo.lease.Token == "" || lo.lease.Token != token {
		s.mu.Unlock()
		return false
	}
	lo.timer.Stop()
	delete(s.lent, id)
	s.wg.Add(1)
	s.mu.Unlock()
	defer s.wg.Done()
	s.log().Warn("handoff: taking a shard back", "shard", id, "why", why, "seq", lo.lease.Session.Seq)
	if err := s.resume(id, lo.lease.Session); err != nil {
		s.log().Warn("handoff: taking a shard back failed", "shard", id, "err", err)
	}
	return true
}

func (s *Source) resume(id int, sess gateway.Session) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	a, err := s.Manager.Adopt(ctx, id, sess)
	if err != nil {
		return err
	}
	a.Deliver()
	return nil
}

func newToken() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
