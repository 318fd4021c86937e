package handoff

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/ipcord/ipcord/gateway"
	"github.com/ipcord/ipcord/ipc"
)

// Route names a Source serves.
const (
	RouteOffer   = "ipcord.handoff.offer"
	RouteRelease = "ipcord.handoff.release"
	RouteCommit  = "ipcord.handoff.commit"
	RouteAbort   = "ipcord.handoff.abort"
	// RouteBegin opens a takeover, RouteRenew keeps it alive and
	// RouteFinish ends it (see Source.HoldTimeout).
	RouteBegin  = "ipcord.handoff.begin"
	RouteRenew  = "ipcord.handoff.renew"
	RouteFinish = "ipcord.handoff.finish"
)

// Error codes a Source answers with; the sentinels match them with
// errors.Is on the caller's side.
const (
	CodeNotHeld    = "handoff_not_held"
	CodeStaleLease = "handoff_stale_lease"
	CodeBadLease   = "handoff_bad_lease"
)

var (
	// ErrNotHeld: the Source does not run the shard asked for (it never
	// did, or it moved or is being moved).
	ErrNotHeld = &ipc.Error{Code: CodeNotHeld}
	// ErrStaleLease: a commit or abort whose lease is not the current one
	// for the shard, say because the Source took the shard back after the
	// lease timed out. The successor must not keep the shard.
	ErrStaleLease = &ipc.Error{Code: CodeStaleLease}
	// ErrBadLease: a request or a lease that cannot be right (a negative
	// shard or seq, a session without an id, a shard count that differs).
	ErrBadLease = &ipc.Error{Code: CodeBadLease}
	// ErrHoldLost: the successor lost its hold on the takeover (its
	// renewals went unanswered for half the Source's HoldTimeout, or the
	// Source had already given up on it) before the Source acknowledged
	// the finish, so it stopped the shards it had taken and the Source
	// resumes them. TakeOver's error matches it.
	ErrHoldLost = errors.New("handoff: the takeover's hold on the source was lost; the shards taken went back")
	// ErrWrongShard: the Source answered a release with the session of
	// another shard than the one asked for. TakeOver aborts that lease.
	ErrWrongShard = fmt.Errorf("handoff: lease for a shard not asked for: %w", ErrBadLease)
)

// Offer is what RouteOffer answers: the shards a Source runs.
type Offer struct {
	// ShardCount is the bot's total, which a successor's Manager must
	// match; Shards are the ones this Source runs.
	ShardCount int   `json:"shard_count"`
	Shards     []int `json:"shards"`
	// Lent are the shards released and not yet committed or taken back.
	Lent []int `json:"lent,omitempty"`
}

// ShardArgs are the arguments of RouteRelease.
type ShardArgs struct {
	Shard int `json:"shard"`
	// Takeover is the token RouteBegin gave; a release under a takeover
	// keeps the session at the Source past the commit, until RouteFinish.
	// Empty: the commit ends the Source's responsibility.
	Takeover string `json:"takeover,omitempty"`
}

// Takeover is what RouteBegin answers: a takeover the Source holds open
// while the successor renews it.
type Takeover struct {
	// Token names the takeover in RouteRelease, RouteRenew and
	// RouteFinish.
	Token string `json:"token"`
	// HoldMS is the Source's HoldTimeout in milliseconds: it resumes the
	// committed shards that long after the last renewal it got.
	HoldMS int64 `json:"hold_ms"`
}

// TakeoverArgs are the arguments of RouteRenew and RouteFinish.
type TakeoverArgs struct {
	Token string `json:"token"`
}

// LeaseArgs are the arguments of RouteCommit and RouteAbort.
type LeaseArgs struct {
	Shard int    `json:"shard"`
	Token string `json:"token"`
}

// Lease is what RouteRelease answers: one shard's session lent to the
// caller, and the application's state for it.
type Lease struct {
	// Shard of ShardCount is the shard lent; Session is where it stopped:
	// its id, the seq of the last event handled, its resume URL.
	Shard      int             `json:"shard"`
	ShardCount int             `json:"shard_count"`
	Session    gateway.Session `json:"session"`
	// State is what Source.Export returned for the shard; null if none.
	State json.RawMessage `json:"state,omitempty"`
	// Token names this lease in the commit or abort that ends it.
	Token string `json:"token"`
	// Takeover is the takeover the lease belongs to, if any.
	Takeover string `json:"takeover,omitempty"`
}

// DecodeLease parses a Lease and checks it can be resumed: a shard in
// range, a non-negative seq, a token; a session without an id is allowed
// (the shard never got one: the successor IDENTIFYs).
func DecodeLease(b []byte) (Lease, error) {
	var l Lease
	if err := json.Unmarshal(b, &l); err != nil {
		return l, fmt.Errorf("%w: %v", ErrBadLease, err)
	}
	if err := l.check(); err != nil {
		return l, err
	}
	return l, nil
}

func (l Lease) check() error {
	switch {
	case l.ShardCount < 1 || l.Shard < 0 || l.Shard >= l.ShardCount:
		return fmt.Errorf("%w: shard %d of %d", ErrBadLease, l.Shard, l.ShardCount)
	case l.Session.Seq < 0:
		return fmt.Errorf("%w: negative seq %d", ErrBadLease, l.Session.Seq)
	case !l.Session.Valid() && l.Session.Seq != 0:
		return fmt.Errorf("%w: seq %d without a session id", ErrBadLease, l.Session.Seq)
	case l.Token == "":
		return fmt.Errorf("%w: no token", ErrBadLease)
	}
	return nil
}

// badLease is ErrBadLease with a message, as a handler returns it.
func badLease(format string, args ...any) error {
	return &ipc.Error{Code: CodeBadLease, Message: fmt.Sprintf(format, args...)}
}
