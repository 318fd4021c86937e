package ipc

import (
	"sync"

	"github.com/ipcord/ipcord/ipc/internal/transport"
)

// workers is where an owner's (a Server's or a Client's) handlers run. A
// connection's read loop runs the handlers of fast routes itself, under
// the watchdog (see inline.go), and hands the others to reused
// goroutines: a fresh goroutine per request starts with a small stack
// that JSON decoding immediately grows (copying it), and that cost
// dominated a profile of many small calls; a worker that has already
// grown its stack runs the next request at once. Idle workers wait in a
// LIFO stack (the most recently used are the hottest), at most maxIdle of
// them; past that a worker exits when it finishes.
type workers struct {
	mu      sync.Mutex
	idle    []chan func()
	maxIdle int
	stopped bool

	stats transport.RouteStats // how long each route's handlers take
	watch watchdog
}

func newWorkers(maxIdle int) *workers {
	w := &workers{maxIdle: maxIdle}
	w.watch.init()
	return w
}

// run runs f on an idle worker, or on a new one.
func (w *workers) run(f func()) {
	w.mu.Lock()
	if n := len(w.idle); n > 0 {
		ch := w.idle[n-1]
		w.idle = w.idle[:n-1]
		w.mu.Unlock()
		ch <- f // buffered: the worker is parked on it
		return
	}
	w.mu.Unlock()
	go w.loop(make(chan func(), 1), f)
}

func (w *workers) loop(ch chan func(), f func()) {
	for {
		f()
		w.mu.Lock()
		if w.stopped || len(w.idle) >= w.maxIdle {
			w.mu.Unlock()
			return
		}
		w.idle = append(w.idle, ch)
		w.mu.Unlock()
		var ok bool
		if f, ok = <-ch; !ok {
			return
		}
	}
}

// stop ends the idle workers and the watchdog; busy workers end when they
// finish.
func (w *workers) stop() {
	w.mu.Lock()
	w.stopped = true
	idle := w.idle
	w.idle = nil
	w.mu.Unlock()
	for _, ch := range idle {
		close(ch)
	}
	w.watch.stop()
}
