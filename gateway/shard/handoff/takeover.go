package handoff

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/ipcord/ipcord/gateway/shard"
	"github.com/ipcord/ipcord/ipc"
)

// DefaultResumeTimeout bounds the wait for an adopted shard's RESUMED.
const DefaultResumeTimeout = 10 * time.Second

// Options configure TakeOver; nil means every default.
type Options struct {
	// Shards are the shards to take; nil takes every shard the Source
	// runs (RouteOffer).
	Shards []int
	// Parallel is how many shards move at once; default 1, so the bot is
	// deaf on at most one shard at a time.
	Parallel int
	// Claim, when set, runs for each shard once the Source has let it go,
	// before Import and before the shard's first event reaches m's
	// handler. An error gives the shard up: the adoption is abandoned
	// having delivered nothing, and TakeOver reports the shard as failed.
	// A fleet takes the shard's lease here, so that a shard another
	// member took meanwhile stays with that member instead of running
	// twice. It gets ResumeTimeout, whatever TakeOver's ctx does. With a
	// Claim, TakeOver opens no takeover at the Source: the claim records
	// the new owner, whose own recovery (a fleet's checkpoints) covers
	// its crash, so the commit ends the Source's responsibility.
	Claim func(ctx context.Context, shard int) error
	// Import receives the state the Source's Export gave for a shard,
	// before the shard's first event reaches the handler. With Parallel
	// above 1 it runs for several shards at once. Optional.
	Import func(shard int, state json.RawMessage)
	// ResumeTimeout bounds the wait for an adopted shard's RESUMED (or
	// READY); past it the shard goes back to the Source. Keep it below the
	// Source's LendTimeout. DefaultResumeTimeout if 0.
	ResumeTimeout time.Duration
	// Logger receives each move at debug level and failures at warn; nil
	// is silent.
	Logger *slog.Logger
}

// Moved is one shard's move, as TakeOver reports it.
type Moved struct {
	// Shard is the shard moved.
	Shard int
	// Seq is the seq the shard resumed from: the last event the Source
	// handled.
	Seq int64
	// Resumed is false when Discord no longer had the session (INVALID_SESSION
	// d:false, say, because the session expired) and the shard had to
	// IDENTIFY, which is the one case a handoff spends an IDENTIFY.
	Resumed bool
	// Deaf is the time from the release request to the moment the
	// successor could deliver the shard's next event: how long nobody
	// handled that shard's events.
	Deaf time.Duration
}

// TakeOver moves shards from the process behind from (a Source's routes,
// reached over an authenticated ipc connection) into m, which must be
// running (it waits for m.Run to size its shards): each shard is released
// there, resumed here from the last event the Source handled, and
// delivered to m's handler only once the Source has let it go. The moves
// happen under a takeover the Source holds open while TakeOver renews it;
// the last call finishes it, and only then are the shards m's alone (see
// the package doc). It returns the shards that moved, and the failures
// joined: a shard that failed to move stays with (or went back to) the
// Source, and when the hold on the takeover is lost every shard goes
// back (nothing moved, an error matching ErrHoldLost).
func TakeOver(ctx context.Context, from ipc.Caller, m *shard.Manager, opts *Options) ([]Moved, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Parallel <= 0 {
		o.Parallel = 1
	}
	if o.ResumeTimeout <= 0 {
		o.ResumeTimeout = DefaultResumeTimeout
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	ids := o.Shards
	if ids == nil {
		var offer Offer
		if err := from.Call(ctx, RouteOffer, nil, &offer); err != nil {
			return nil, fmt.Errorf("handoff: asking which shards to take: %w", err)
		}
		ids = offer.Shards
	}
	// The moves stop when the hold on the takeover is lost.
	mctx, cancel := context.WithCancel(ctx)
	defer cancel()
	t := &taker{o: o, from: from, m: m}
	if o.Claim == nil {
		h, err := begin(ctx, from, m, o.Logger, cancel)
		if err != nil {
			return nil, err
		}
		t.hold = h
	}
	var (
		mu    sync.Mutex
		moved []Moved
		errs  []error
		wg    sync.WaitGroup
	)
	sem := make(chan struct{}, o.Parallel)
	for _, id := range ids {
		select {
		case sem <- struct{}{}:
		case <-mctx.Done():
		}
		if mctx.Err() != nil {
			mu.Lock()
			errs = append(errs, cmp.Or(t.hold.err(), ctx.Err()))
			mu.Unlock()
			break
		}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			mv, err := t.move(mctx, id)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, fmt.Errorf("handoff: shard %d: %w", id, err))
				return
			}
			moved = append(moved, mv)
		}()
	}
	wg.Wait()
	if t.hold != nil {
		if err := t.hold.finish(); err != nil {
			// Every shard taken went back to the Source.
			return nil, errors.Join(append(errs, err)...)
		}
	}
	return moved, errors.Join(errs...)
}

type taker struct {
	o    Options
	from ipc.Caller
	m    *shard.Manager
	hold *holder // nil: the commit ends the Source's responsibility
}

// move takes one shard.
func (t *taker) move(ctx context.Context, id int) (Moved, error) {
	start := time.Now()
	var raw json.RawMessage
	if err := t.call(ctx, RouteRelease, ShardArgs{Shard: id, Takeover: t.hold.tokenOf()}, &raw); err != nil {
		return Moved{}, fmt.Errorf("release: %w", err)
	}
	l, err := DecodeLease(raw)
	if err == nil && l.Shard != id {
		err = fmt.Errorf("%w: asked for %d, got %d", ErrWrongShard, id, l.Shard)
	}
	if err != nil {
		// Hand it back under the token it came with (if any), so the
		// Source resumes it now rather than at the lease's timeout.
		t.abort(id, l.Token)
		return Moved{}, err
	}
	a, err := t.m.Adopt(ctx, id, l.Session)
	if err == nil && t.m.ShardCount() != l.ShardCount {
		a.Abandon(context.WithoutCancel(ctx))
		err = fmt.Errorf("%w: the source runs %d shards, this manager %d", ErrBadLease, l.ShardCount, t.m.ShardCount())
	}
	if err != nil {
		t.abort(id, l.Token)
		return Moved{}, fmt.Errorf("adopting: %w", err)
	}
	wctx, cancel := context.WithTimeout(ctx, t.o.ResumeTimeout)
	err = a.Wait(wctx)
	cancel()
	if err != nil {
		a.Abandon(context.WithoutCancel(ctx))
		t.abort(id, l.Token)
		return Moved{}, fmt.Errorf("resuming: %w", err)
	}
	if err := t.commit(ctx, l); err != nil {
		// The Source took the shard back: nothing was delivered here, so
		// it resumes without a repeat.
		a.Abandon(context.WithoutCancel(ctx))
		return Moved{}, fmt.Errorf("commit: %w", err)
	}
	if t.o.Claim != nil {
		// The Source has let go: a canceled ctx must not leave the shard
		// with nobody, so the claim runs on its own deadline.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), t.o.ResumeTimeout)
		err := t.o.Claim(cctx, id)
		cancel()
		if err != nil {
			a.Abandon(context.WithoutCancel(ctx))
			return Moved{}, fmt.Errorf("claim: %w", err)
		}
	}
	if t.o.Import != nil {
		t.o.Import(id, l.State)
	}
	a.Deliver()
	if t.hold != nil && !t.hold.keep(id) {
		// The hold was lost meanwhile: the Source resumes this one too.
		t.hold.giveBack(id)
		return Moved{}, t.hold.err()
	}
	st := a.Shard().Status()
	mv := Moved{Shard: id, Seq: l.Session.Seq, Resumed: st.Identifies == 0, Deaf: time.Since(start)}
	t.o.Logger.Debug("handoff: shard taken", "shard", id, "seq", mv.Seq, "resumed", mv.Resumed, "deaf", mv.Deaf)
	return mv, nil
}

// call calls the Source, counting an answer as a renewal of the hold.
func (t *taker) call(ctx context.Context, route string, args, out any) error {
	sent := time.Now()
	err := t.from.Call(ctx, route, args, out)
	if err == nil && t.hold != nil {
		t.hold.answered(sent)
	}
	return err
}

// commit ends the lease. A refusal (ErrStaleLease) means the Source took
// the shard back. A commit whose fate is unknown (no reply, the connection
// lost, the Source shutting down) is retried, since the Source remembers
// committed leases. Under a takeover it is retried until the hold is
// lost, which gives the shard back. Without one, it is retried until the
// resume timeout: when the Source stays unreachable it has died, and the
// shard is ours. ctx does not cut a commit short: that would leave the
// shard with nobody.
func (t *taker) commit(ctx context.Context, l Lease) error {
	deadline := time.Now().Add(t.o.ResumeTimeout)
	wait := 20 * time.Millisecond
	for {
		if t.hold != nil {
			if err := t.hold.err(); err != nil {
				return err
			}
			deadline = t.hold.deadline()
		}
		cctx, cancel := context.WithDeadline(context.WithoutCancel(ctx), deadline)
		err := t.call(cctx, RouteCommit, LeaseArgs{Shard: l.Shard, Token: l.Token}, nil)
		cancel()
		if err == nil || refused(err) {
			return err
		}
		if t.hold != nil {
			t.hold.failed(err)
			if time.Now().Add(wait).After(deadline) {
				t.hold.unanswered(fmt.Errorf("commit: %w", err))
				return t.hold.err()
			}
		}
		if time.Now().Add(wait).After(deadline) {
			t.o.Logger.Warn("handoff: the source did not answer the commit; keeping the shard", "shard", l.Shard, "err", err)
			return nil
		}
		time.Sleep(wait)
		wait = min(2*wait, time.Second)
	}
}

// refused reports whether err is the remote side's definite answer, as
// opposed to a call whose fate is unknown.
func refused(err error) bool {
	var ie *ipc.Error
	return errors.As(err, &ie) && !errors.Is(err, ipc.ErrTimeout) && !errors.Is(err, ipc.ErrCanceled) &&
		ie.Code != ipc.CodeShuttingDown && ie.Code != ipc.CodeOverloaded
}

// abort hands a lease back; a failure is only logged, since the lease's
// timeout hands it back anyway.
func (t *taker) abort(id int, token string) {
	if token == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := t.from.Call(ctx, RouteAbort, LeaseArgs{Shard: id, Token: token}, nil); err != nil {
		t.o.Logger.Warn("handoff: handing a lease back", "shard", id, "err", err)
	}
}
