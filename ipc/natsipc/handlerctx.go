package natsipc

import (
	"context"
	"sync"
	"time"
)

// handlerCtx is the context a handler runs under: the request's deadline,
// canceled by Close. context.WithTimeout under a cancelable parent costs
// four allocations and a timer on every request; this is one allocation,
// and its deadline timer starts only when someone waits on Done (or
// derives a context from it): a handler that never waits never pays for
// one, and Err compares the clock instead. It implements AfterFunc so that
// contexts derived from it need no goroutine to follow it. (Package ipc
// has the same for WebSocket requests, unexported.)
type handlerCtx struct {
	deadline time.Time

	mu    sync.Mutex
	timer *time.Timer
	done  chan struct{}
	err   error
	funcs map[*afterFunc]struct{}
}

type afterFunc struct{ f func() }

var closedChan = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

func newHandlerCtx(timeout time.Duration) *handlerCtx {
	return &handlerCtx{deadline: time.Now().Add(timeout)}
}

func (h *handlerCtx) Deadline() (time.Time, bool) { return h.deadline, true }

func (h *handlerCtx) Done() <-chan struct{} {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.done == nil {
		if h.err != nil {
			return closedChan
		}
		h.done = make(chan struct{})
		h.watchLocked()
	}
	return h.done
}

func (h *handlerCtx) Err() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.err == nil && !time.Now().Before(h.deadline) {
		return context.DeadlineExceeded
	}
	return h.err
}

func (h *handlerCtx) Value(key any) any { return nil }

// watchLocked starts the deadline timer once; h.mu is held.
func (h *handlerCtx) watchLocked() {
	if h.timer == nil && h.err == nil {
		h.timer = time.AfterFunc(time.Until(h.deadline), func() { h.cancel(context.DeadlineExceeded) })
	}
}

// AfterFunc is what context.AfterFunc and context.WithCancel use to follow
// a parent that is not one of the standard library's contexts.
func (h *handlerCtx) AfterFunc(f func()) func() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.err != nil {
		go f()
		return func() bool { return false }
	}
	h.watchLocked()
	a := &afterFunc{f: f}
	if h.funcs == nil {
		h.funcs = make(map[*afterFunc]struct{})
	}
	h.funcs[a] = struct{}{}
	return func() bool {
		h.mu.Lock()
		defer h.mu.Unlock()
		_, ok := h.funcs[a]
		delete(h.funcs, a)
		return ok
	}
}

// cancel ends the context with err (context.Canceled or DeadlineExceeded).
func (h *handlerCtx) cancel(err error) {
	h.mu.Lock()
	if h.err != nil {
		h.mu.Unlock()
		return
	}
	h.err = err
	if h.done != nil {
		close(h.done)
	}
	funcs := h.funcs
	h.funcs = nil
	if h.timer != nil {
		h.timer.Stop()
	}
	h.mu.Unlock()
	for a := range funcs {
		go a.f()
	}
}
