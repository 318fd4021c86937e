package transport

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// Context is the context a transport runs one handler under: the
// request's deadline, canceled by Cancel (a cancel frame, the connection
// ending, the handler returning) or by its Group, and carrying the request
// for ipc.RequestFrom (under RequestKey). Every transport of ipcord (the
// native protocol, the Python dialects, natsipc) runs handlers under one.
// R is ipc.Request: this package cannot name it, since ipc imports it.
//
// It is one allocation where context.WithTimeout plus WithValue would be
// five, on a path every call takes. The deadline timer starts only when
// someone waits on Done (or derives a context): a handler that returns
// without waiting never pays for one, and Err compares the clock instead.
// It implements AfterFunc so contexts derived from it need no goroutine to
// follow it.
type Context[R any] struct {
	req      R
	deadline time.Time
	group    *Group[R]

	mu      sync.Mutex
	timer   *time.Timer
	done    chan struct{}
	err     error
	funcs   map[*afterFunc]struct{}
	tracked bool // in group.running
}

// RequestKey is the context key under which a handler's context carries
// its *R (ipc.RequestFrom looks it up).
type RequestKey struct{}

type afterFunc struct{ f func() }

var closedChan = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

// NewContext returns the context to run req's handler under until
// deadline. group (nil for none) cancels it together with the other
// contexts of a transport that closes.
func NewContext[R any](req R, deadline time.Time, group *Group[R]) *Context[R] {
	return &Context[R]{req: req, deadline: deadline, group: group}
}

// Request returns the request the context was made for; a transport may
// fill it in after making the context, before the handler runs.
func (h *Context[R]) Request() *R { return &h.req }

// Deadline returns the request's deadline.
func (h *Context[R]) Deadline() (time.Time, bool) { return h.deadline, true }

// Done returns a channel closed when the context ends.
func (h *Context[R]) Done() <-chan struct{} {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.done == nil {
		if h.err != nil {
			return closedChan
		}
		h.done = make(chan struct{})
		h.watchLocked() // may end the context, closing done
	}
	return h.done
}

// Err returns why the context ended, or nil.
func (h *Context[R]) Err() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.err == nil {
		if !time.Now().Before(h.deadline) {
			return context.DeadlineExceeded
		}
		if h.group != nil && h.group.canceled.Load() {
			return context.Canceled
		}
	}
	return h.err
}

// Value returns the request under RequestKey, and nothing else.
func (h *Context[R]) Value(key any) any {
	if key == (RequestKey{}) {
		return &h.req
	}
	return nil
}

// AfterFunc is what context.AfterFunc and context.WithCancel use to follow
// a parent that is not one of the standard library's own contexts.
func (h *Context[R]) AfterFunc(f func()) func() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.err == nil {
		h.watchLocked()
	}
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

// Cancel ends the context with context.Canceled (when it has not ended
// yet) and lets its group forget it. A transport calls it when the caller
// gives up and, in any case, when the handler has returned.
func (h *Context[R]) Cancel() {
	h.cancel(context.Canceled)
	h.mu.Lock()
	tracked := h.tracked
	h.tracked = false
	h.mu.Unlock()
	if tracked {
		h.group.forget(h)
	}
}

// watchLocked starts the deadline timer and joins the group, once, when
// someone starts waiting on the context; h.mu is held and h.err is nil.
func (h *Context[R]) watchLocked() {
	if h.group != nil && !h.tracked {
		if !h.group.track(h) {
			h.funcsToRun(h.endLocked(context.Canceled)) // the group was canceled already
			return
		}
		h.tracked = true
	}
	if h.timer == nil {
		h.timer = time.AfterFunc(time.Until(h.deadline), h.expire)
	}
}

func (h *Context[R]) expire() { h.cancel(context.DeadlineExceeded) }

// cancel ends the context with err (context.Canceled or DeadlineExceeded).
func (h *Context[R]) cancel(err error) {
	h.mu.Lock()
	funcs := h.endLocked(err)
	h.mu.Unlock()
	h.funcsToRun(funcs)
}

// endLocked ends the context and returns the AfterFuncs to run.
func (h *Context[R]) endLocked(err error) map[*afterFunc]struct{} {
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

func (h *Context[R]) funcsToRun(funcs map[*afterFunc]struct{}) {
	for a := range funcs {
		go a.f()
	}
}

// Group cancels the Contexts of a transport that closes:
// the contexts someone waits on join it (a handler that never waits only
// learns of it from Err, which consults the group), and Cancel ends them
// all, and every one made after. The zero value is ready to use.
type Group[R any] struct {
	canceled atomic.Bool
	mu       sync.Mutex
	running  map[*Context[R]]struct{}
}

// Cancel ends every context of the group with context.Canceled.
func (g *Group[R]) Cancel() {
	g.mu.Lock()
	g.canceled.Store(true)
	running := g.running
	g.running = nil
	g.mu.Unlock()
	for h := range running {
		h.cancel(context.Canceled)
	}
}

// track adds h; false once the group is canceled.
func (g *Group[R]) track(h *Context[R]) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.canceled.Load() {
		return false
	}
	if g.running == nil {
		g.running = make(map[*Context[R]]struct{})
	}
	g.running[h] = struct{}{}
	return true
}

func (g *Group[R]) forget(h *Context[R]) {
	g.mu.Lock()
	delete(g.running, h)
	g.mu.Unlock()
}
