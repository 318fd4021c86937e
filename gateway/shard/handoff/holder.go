package handoff

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"syscall"
	"time"

	"github.com/ipcord/ipcord/gateway/shard"
	"github.com/ipcord/ipcord/ipc"
)

// holder is the successor's side of a takeover: it renews it, keeps the
// list of shards committed under it, and stops them all if the hold is
// lost before the Source acknowledges the finish.
//
// The rule: a shard committed under a takeover is the successor's only
// once the Source answered RouteFinish. Until then the successor keeps it
// while its renewals are answered; when none was for half the Source's
// HoldTimeout (counted from when the last answered one was sent), or the
// Source refuses one, it stops those shards for good (closing with 4000,
// so the sessions stay resumable) and never starts them again. The one
// exception: when the Source's address refuses connections, no process
// is left there to resume them (the Source exits only after a finish, or
// by crashing), and the successor keeps them. The Source
// resumes them a full HoldTimeout after the last renewal it got, so in
// the usual case the successor has let go first; if not, Discord's newest
// RESUME wins and the successor, which no longer reconnects, ends with
// nothing.
type holder struct {
	from   ipc.Caller
	m      *shard.Manager
	token  string
	hold   time.Duration
	log    *slog.Logger
	cancel context.CancelFunc // stops the moves in progress

	mu       sync.Mutex
	acked    time.Time // when the last call the Source answered was sent
	gone     bool      // the last call found the Source's port closed
	kept     []int
	lost     error
	finished bool // the Source answered the finish, or is gone
	stop     chan struct{}
	done     chan struct{}
}

// begin opens a takeover at the Source; a Source that predates takeovers
// (no RouteBegin) gives (nil, nil), and the move works as before.
func begin(ctx context.Context, from ipc.Caller, m *shard.Manager, log *slog.Logger, cancel context.CancelFunc) (*holder, error) {
	sent := time.Now()
	var tk Takeover
	if err := from.Call(ctx, RouteBegin, nil, &tk); err != nil {
		if errors.Is(err, ipc.ErrUnknownRoute) {
			return nil, nil
		}
		return nil, fmt.Errorf("handoff: opening the takeover: %w", err)
	}
	if tk.Token == "" || tk.HoldMS <= 0 {
		return nil, fmt.Errorf("%w: takeover %+v", ErrBadLease, tk)
	}
	h := &holder{from: from, m: m, token: tk.Token, hold: time.Duration(tk.HoldMS) * time.Millisecond, log: log,
		cancel: cancel, acked: sent, stop: make(chan struct{}), done: make(chan struct{})}
	go h.run()
	return h, nil
}

// answered records that the Source answered a call sent at sent.
func (h *holder) answered(sent time.Time) {
	h.mu.Lock()
	if sent.After(h.acked) {
		h.acked = sent
	}
	h.gone = false
	h.mu.Unlock()
}

// failed records a call that got no answer. A refused connection means
// no process listens at the Source's address any more: the Source, which
// exits only once a takeover finished (or when it crashes), is gone and
// will resume nothing.
func (h *holder) failed(err error) {
	h.mu.Lock()
	h.gone = errors.Is(err, syscall.ECONNREFUSED)
	h.mu.Unlock()
}

// unanswered ends a hold whose calls went unanswered for half the
// HoldTimeout: the shards go back, unless the Source is gone, in which
// case handing them back would orphan them and they stay here.
func (h *holder) unanswered(cause error) {
	h.mu.Lock()
	if h.gone && h.lost == nil && !h.finished {
		h.finished = true
		kept := len(h.kept)
		h.mu.Unlock()
		h.cancel()
		h.log.Warn("handoff: the source is gone (its address refuses connections); keeping the shards taken", "shards", kept, "err", cause)
		return
	}
	h.mu.Unlock()
	h.lose(cause)
}

// deadline is when the hold is lost without a further answer.
func (h *holder) deadline() time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.acked.Add(h.hold / 2)
}

// tokenOf is the takeover's token; "" without a hold.
func (h *holder) tokenOf() string {
	if h == nil {
		return ""
	}
	return h.token
}

// err is why the hold was lost, or nil (also without a hold).
// callContext bounds one renewal or finish: a tenth of HoldTimeout, so
// that a call failing for want of a connection reports the latest reason
// (a refused connection says the Source is gone), and never past the
// deadline.
func (h *holder) callContext() (context.Context, context.CancelFunc) {
	d := min(time.Until(h.deadline()), h.hold/10)
	return context.WithTimeout(context.Background(), d)
}

func (h *holder) err() error {
	if h == nil {
		return nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.lost
}

// keep adds a delivered shard to the takeover; false when the hold is
// already lost, and the caller must stop the shard.
func (h *holder) keep(id int) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.lost != nil {
		return false
	}
	h.kept = append(h.kept, id)
	return true
}

// run renews the takeover every tenth of HoldTimeout until finish.
func (h *holder) run() {
	defer close(h.done)
	t := time.NewTicker(h.hold / 10)
	defer t.Stop()
	renewing := make(chan struct{}, 1)
	for {
		select {
		case <-h.stop:
			return
		case <-t.C:
		}
		if time.Now().After(h.deadline()) {
			h.unanswered(errors.New("no renewal answered"))
			return
		}
		select {
		case renewing <- struct{}{}:
		default:
			continue // the last renewal is still waiting for its answer
		}
		go func() {
			defer func() { <-renewing }()
			sent := time.Now()
			ctx, cancel := h.callContext()
			err := h.from.Call(ctx, RouteRenew, TakeoverArgs{Token: h.token}, nil)
			cancel()
			switch {
			case err == nil:
				h.answered(sent)
			case refused(err):
				h.lose(err)
			default:
				h.failed(err)
			}
		}()
	}
}

// lose gives up the takeover before its finish: the moves stop, and every
// shard kept is stopped here, for the Source to resume.
func (h *holder) lose(cause error) {
	h.mu.Lock()
	if h.lost != nil || h.finished {
		h.mu.Unlock()
		return
	}
	h.lost = fmt.Errorf("%w: %w", ErrHoldLost, cause)
	kept := h.kept
	h.kept = nil
	h.mu.Unlock()
	h.cancel()
	h.log.Warn("handoff: lost the hold on the takeover; handing the shards taken back", "shards", kept, "err", cause)
	var wg sync.WaitGroup
	for _, id := range kept {
		wg.Go(func() { h.giveBack(id) })
	}
	wg.Wait()
}

// giveBack stops a shard taken under the lost takeover.
func (h *holder) giveBack(id int) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := h.m.HandOff(ctx, id); err != nil && !errors.Is(err, shard.ErrShardNotHeld) {
		h.log.Warn("handoff: stopping a shard handed back", "shard", id, "err", err)
	}
}

// finish ends the takeover: once the Source answers, the shards are ours.
// A call whose fate is unknown is tried again until the hold is lost.
func (h *holder) finish() error {
	defer func() {
		close(h.stop)
		<-h.done
	}()
	wait := 20 * time.Millisecond
	for {
		h.mu.Lock()
		lost, finished := h.lost, h.finished
		h.mu.Unlock()
		if lost != nil || finished {
			return lost
		}
		sent := time.Now()
		ctx, cancel := h.callContext()
		err := h.from.Call(ctx, RouteFinish, TakeoverArgs{Token: h.token}, nil)
		cancel()
		if err == nil {
			h.answered(sent)
			h.mu.Lock()
			defer h.mu.Unlock()
			if h.lost != nil {
				return h.lost // too late: the shards were stopped
			}
			h.finished = true
			return nil
		}
		if refused(err) {
			h.lose(err)
			return h.err()
		}
		h.failed(err)
		if time.Now().Add(wait).After(h.deadline()) {
			h.unanswered(fmt.Errorf("finish: %w", err))
			return h.err()
		}
		time.Sleep(wait)
		wait = min(2*wait, time.Second)
	}
}
