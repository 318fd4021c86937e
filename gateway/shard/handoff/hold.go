package handoff

import (
	"context"
	"fmt"
	"time"

	"github.com/ipcord/ipcord/ipc"
)

// DefaultHoldTimeout is how long a Source keeps a takeover open without a
// renewal from its successor.
const DefaultHoldTimeout = 5 * time.Second

// takeover is one successor's takeover as the Source holds it: the
// sessions it committed, kept until it finishes, and the time of its
// last renewal.
type takeover struct {
	state holdState
	kept  map[int]Lease // committed shards, as lent
	last  time.Time     // the last call that carried the token
	timer *time.Timer
}

type holdState int

const (
	holdOpen holdState = iota
	holdFinished
	holdLapsed
)

func (s *Source) holdTimeout() time.Duration {
	if s.HoldTimeout > 0 {
		return s.HoldTimeout
	}
	return DefaultHoldTimeout
}

// begin opens a takeover.
func (s *Source) begin() Takeover {
	token, hold := newToken(), s.holdTimeout()
	tk := &takeover{kept: map[int]Lease{}, last: time.Now()}
	s.mu.Lock()
	s.takeovers[token] = tk
	tk.timer = time.AfterFunc(hold, func() { s.expire(token) })
	s.mu.Unlock()
	return Takeover{Token: token, HoldMS: hold.Milliseconds()}
}

// touchLocked renews an open takeover; false if it is not open.
func (s *Source) touchLocked(token string) bool {
	tk := s.takeovers[token]
	if tk == nil || tk.state != holdOpen {
		return false
	}
	tk.last = time.Now()
	return true
}

// keepLocked keeps a committed lease's session for its takeover.
func (s *Source) keepLocked(token string, l Lease) bool {
	if !s.touchLocked(token) {
		return false
	}
	s.takeovers[token].kept[l.Shard] = l
	return true
}

// keepingLocked reports whether an unfinished takeover keeps a session.
func (s *Source) keepingLocked() bool {
	for _, tk := range s.takeovers {
		if tk.state == holdOpen && len(tk.kept) > 0 {
			return true
		}
	}
	return false
}

func (s *Source) renew(ctx context.Context, a TakeoverArgs) (struct{}, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if tk := s.takeovers[a.Token]; tk != nil && tk.state == holdFinished {
		return struct{}{}, nil
	}
	if !s.touchLocked(a.Token) {
		return struct{}{}, staleTakeover(a.Token)
	}
	return struct{}{}, nil
}

// finish ends a takeover: its shards are the successor's alone now. A
// repeated finish succeeds; the finish of a lapsed takeover is refused,
// since its shards came back here.
func (s *Source) finish(ctx context.Context, a TakeoverArgs) (struct{}, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	tk := s.takeovers[a.Token]
	if tk == nil || tk.state == holdLapsed {
		return struct{}{}, staleTakeover(a.Token)
	}
	if tk.state == holdOpen {
		tk.state = holdFinished
		tk.timer.Stop()
		s.log().Info("handoff: takeover finished", "shards", len(tk.kept))
		tk.kept = nil
		s.checkEmptyLocked()
	}
	return struct{}{}, nil
}

// expire runs on a takeover's timer: past HoldTimeout without a renewal,
// the takeover lapses and every shard lent or committed under it is
// resumed here from the session handed over. The successor, which stops
// renewing only when it died or lost the channel, has stopped those
// shards by then (it gives up at half HoldTimeout), and would not start
// them again.
func (s *Source) expire(token string) {
	hold := s.holdTimeout()
	s.mu.Lock()
	tk := s.takeovers[token]
	if tk == nil || tk.state != holdOpen {
		s.mu.Unlock()
		return
	}
	if left := hold - time.Since(tk.last); left > 0 {
		tk.timer.Reset(left)
		s.mu.Unlock()
		return
	}
	tk.state = holdLapsed
	kept := tk.kept
	tk.kept = nil
	var loans []Lease
	for _, lo := range s.lent {
		if lo.lease.Takeover == token && lo.lease.Token != "" {
			loans = append(loans, lo.lease)
		}
	}
	s.wg.Add(len(kept))
	s.mu.Unlock()
	s.log().Warn("handoff: the successor stopped renewing its takeover; resuming its shards here", "committed", len(kept), "lent", len(loans))
	for _, l := range loans {
		s.wg.Go(func() { s.takeBack(l.Shard, l.Token, "takeover lapsed") })
	}
	for _, l := range kept {
		go func() {
			defer s.wg.Done()
			s.log().Warn("handoff: taking a committed shard back", "shard", l.Shard, "seq", l.Session.Seq)
			if err := s.resume(l.Shard, l.Session); err != nil {
				s.log().Warn("handoff: taking a committed shard back failed", "shard", l.Shard, "err", err)
			}
		}()
	}
}

func staleTakeover(token string) error {
	return &ipc.Error{Code: CodeStaleLease, Message: fmt.Sprintf("no open takeover %.8s…", token)}
}
