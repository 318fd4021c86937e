package ipc

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ipcord/ipcord/ipc/internal/transport"
)

// Running handlers on the read loop.
//
// A connection's read loop runs the handler of a fast route itself (see
// transport.InlineMax) and goes on reading, the way a bare echo server
// answers: no goroutine is woken for the request, and none for the
// reading. Replies of handlers run this way are held while more requests
// are already buffered, and written together before the loop next reads
// the socket, so a burst of calls is answered in one write.
//
// A route is fast until its handlers prove otherwise, and a fast route's
// handler may still block; run inline, it would hold up every other call
// on the connection. So another read loop takes over, on a worker, and
// the route is marked slow; the stuck loop ends once its handler returns:
//   - at once when the handler calls back its caller over this connection
//     (the reply it waits for needs a reader; see callingBack);
//   - otherwise when the watchdog finds the handler running for
//     stallAfter. The connection's other calls then waited for at most
//     stallAfter + watchTickMax (11 ms), once: the route's later calls run
//     on workers until handlers timed there bring its average back down.
//
// One watchdog serves all of an owner's connections. It looks every
// stallAfter/2 while it finds a handler running inline, less often (up to
// watchTickMax) while it finds none, and it ends after watchQuiet without
// any inline run. Waking it per request would cost more than the handlers
// it watches; and frequent ticks made every call dearer on the 2-core VM
// it was measured on (a 4 ms cap cost the server 11–34% more CPU per
// sequential call than no watchdog; see BENCHMARKS.md).
const (
	stallAfter   = time.Millisecond
	watchTickMax = 10 * time.Millisecond
	watchQuiet   = 50 * time.Millisecond
)

// epoch is the origin of the times in conn.inlineSince.
var epoch = time.Now()

// sinceEpoch is t as nanoseconds after epoch, never 0 or negative.
func sinceEpoch(t time.Time) int64 { return max(int64(t.Sub(epoch)), 0) + 1 }

// runInline runs t on the read loop, under the watchdog. It reports
// whether this goroutine is still the connection's reader; when it is
// not, the watchdog has started another.
func (c *conn) runInline(t task) bool {
	c.inlineStat.Store(t.stat)
	c.inlineCtx.Store(t.ctx)
	since := sinceEpoch(t.start)
	c.inlineSince.Store(since)
	c.cfg.workers.watch.kick(c)
	reply := c.execute(t)
	if t.stat.Timed() {
		t.stat.Record(time.Since(t.start))
	}
	if c.inlineSince.CompareAndSwap(since, 0) {
		// Still the reader: hold the reply until the loop has nothing
		// more buffered to serve.
		c.finish(t, reply, true)
		return true
	}
	c.finish(t, reply, false)
	return false
}

// callingBack is called before a call on c with the caller's ctx: when
// the caller is the handler the read loop runs, its reply would wait for
// that loop, so another takes over at once.
func (c *conn) callingBack(ctx context.Context) {
	since := c.inlineSince.Load()
	if since <= 0 {
		return
	}
	if hc := c.inlineCtx.Load(); hc != nil {
		if r, _ := ctx.Value(transport.RequestKey{}).(*Request); r == hc.Request() {
			c.takeOver(since)
		}
	}
}

// takeOver makes a new read loop take over from one whose inline handler,
// started at since, is stuck; the route of that handler is marked slow.
func (c *conn) takeOver(since int64) {
	if !c.inlineSince.CompareAndSwap(since, -1) {
		return // it returned meanwhile
	}
	if st := c.inlineStat.Load(); st != nil {
		st.Stalled(stallAfter)
	}
	c.cfg.workers.run(c.readLoop)
}

// watchdog catches handlers stuck on the read loop of an owner's
// connections.
type watchdog struct {
	busy  atomic.Bool // a handler ran inline since the last tick
	awake atomic.Bool // the goroutine runs (or is starting)

	mu      sync.Mutex
	conns   map[*conn]struct{} // those that ran handlers inline
	stopped bool
	done    chan struct{} // closed by stop
}

func (d *watchdog) init() {
	d.conns = make(map[*conn]struct{})
	d.done = make(chan struct{})
}

// kick tells the watchdog that c runs a handler inline. It costs an
// atomic load while the watchdog is awake and already knows of c.
func (d *watchdog) kick(c *conn) {
	if !c.watched {
		d.mu.Lock()
		d.conns[c] = struct{}{}
		d.mu.Unlock()
		c.watched = true
	}
	if d.busy.Load() {
		return
	}
	d.busy.Store(true)
	if !d.awake.Load() {
		d.wake()
	}
}

func (d *watchdog) wake() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.stopped || d.awake.Load() {
		return
	}
	d.awake.Store(true)
	go d.loop()
}

func (d *watchdog) stop() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.stopped {
		d.stopped = true
		close(d.done)
	}
}

func (d *watchdog) loop() {
	tick := stallAfter / 2
	t := time.NewTimer(tick)
	defer t.Stop()
	var quiet time.Duration
	for {
		select {
		case <-d.done:
			return
		case <-t.C:
		}
		if d.check() {
			// A handler is running inline: check again before it could
			// have run for much more than stallAfter.
			tick = stallAfter / 2
		} else {
			// None is: check less often. One that starts meanwhile and
			// stalls is caught by the next tick, at most watchTickMax
			// later. Short handlers between sparse requests are rarely
			// running when the watchdog looks, so it mostly sleeps.
			tick = min(2*tick, watchTickMax)
		}
		if d.busy.Swap(false) {
			quiet = 0
		} else if quiet += tick; quiet >= watchQuiet && d.sleep() {
			return
		}
		t.Reset(tick)
	}
}

// sleep ends the watchdog unless a kick came as it decided to: the
// kicker saw it awake, so it must stay.
func (d *watchdog) sleep() bool {
	d.mu.Lock()
	d.awake.Store(false)
	d.mu.Unlock()
	if !d.busy.Load() {
		return true
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.stopped || d.awake.Load() {
		return true // stopped, or a kick started another goroutine
	}
	d.awake.Store(true)
	return false
}

// check takes over from read loops stuck in a handler and reports whether
// any connection is running a handler inline. Ended connections are
// forgotten.
func (d *watchdog) check() (running bool) {
	now := sinceEpoch(time.Now())
	d.mu.Lock()
	defer d.mu.Unlock()
	for c := range d.conns {
		if c.isDone() {
			delete(d.conns, c)
			continue
		}
		since := c.inlineSince.Load()
		if since <= 0 {
			continue
		}
		running = true
		if now-since >= int64(stallAfter) {
			c.takeOver(since)
		}
	}
	return running
}
