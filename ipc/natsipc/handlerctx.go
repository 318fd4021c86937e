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
	node     *Node // tracks the context for Close once someone waits on it

	mu    sync.Mutex
	timer *time.Timer
	done  chan struct{}
	err   error
	funcs map[*afterFunc]struct{}
	// tracked: the node knows this context (it must cancel it on Close).
	// Only contexts somebody waits on are tracked: the others learn of
	// Close from Err, which looks at the node.
	tracked bool
}

type afterFunc struct{ f func() }

var closedChan = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

func newHandlerCtx(n *Node, timeout time.Duration) *handlerCtx {
	return &handlerCtx{node: n, deadline: time.Now().Add(timeout)}
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
	if h.err == nil {
		if !time.Now().Before(h.deadline) {
			return context.DeadlineExceeded
		}
		if h.node != nil && h.node.isClosed.Load() {
			return context.Canceled
		}
	}
	return h.err
}

func (h *handlerCtx) Value(key any) any { return nil }

// watchLocked starts the deadline timer and the node's tracking once;
// h.mu is held.
func (h *handlerCtx) watchLocked() {
	if h.err != nil {
		return
	}
	if !h.tracked && h.node != nil {
		h.tracked = true
		if !h.node.track(h) {
			h.cancelLocked(context.Canceled) // the node closed already
			return
		}
	}
	if h.timer == nil {
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
	if h.err != nil {
		go f()
		return func() bool { return false }
	}
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
	funcs := h.cancelLocked(err)
	h.mu.Unlock()
	for a := range funcs {
		go a.f()
	}
}

// cancelLocked ends the context and returns the AfterFuncs to run (after
// h.mu is released; watchLocked's caller has none yet).
func (h *handlerCtx) cancelLocked(err error) map[*afterFunc]struct{} {
	if h.err != nil {
		return nil
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
	return funcs
}

// release ends a handler's context when it returned: its timer stops and
// the node forgets it.
func (h *handlerCtx) release() {
	h.mu.Lock()
	tracked := h.tracked
	funcs := h.cancelLocked(context.Canceled)
	h.mu.Unlock()
	for a := range funcs {
		go a.f()
	}
	if tracked && h.node != nil {
		h.node.untrack(h)
	}
}
