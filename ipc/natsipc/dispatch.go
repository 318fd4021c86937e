package natsipc

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/ipcord/ipcord/ipc"
	"github.com/ipcord/ipcord/ipc/internal/transport"
	"github.com/nats-io/nats.go"
)

// How requests reach handlers.
//
// Requests from every serving subscription arrive on one Go channel, put
// there by nats.go's reader goroutine with nothing in between. One reader
// goroutine takes them off and runs the handler of a fast route itself, so
// a burst of small calls costs no hand-off between goroutines and their
// replies leave together, the way a bare nats.go responder answers. (With
// a pool of readers, each request woke a goroutine of its own and every
// reply was flushed alone: a third more CPU per call.) A route whose
// handlers take transport.InlineMax or more on average runs each call in a goroutine
// of its own instead, so slow and CPU-heavy handlers run in parallel.
//
// A handler that turns slow while the reader runs it is caught by a
// watchdog: once it has run for stallAfter, a new reader takes over the
// channel, the stuck one leaves when its handler returns, and the route
// runs in goroutines from then on. So a request waits behind another's
// handler for at most about stallAfter. The watchdog sleeps while no
// requests come.

// stallAfter is how long the reader may run one handler before the
// watchdog hands the channel to a new reader.
const stallAfter = 500 * time.Microsecond

// reader is one goroutine taking requests off Node.reqCh.
// handlerContext is the context a handler runs under, as in package ipc.
type handlerContext = transport.Context[ipc.Request]

type reader struct {
	since atomic.Int64 // when its running handler began (nanoseconds after Node.epoch); 0 between handlers
	route atomic.Pointer[transport.RouteStat]

	// The handler it runs, for the watchdog to make cancelable when it
	// hands the channel on: until then no other goroutine reads cancels.
	mu         sync.Mutex
	ctx        *handlerContext
	replyTo    string
	id         []byte
	registered bool // in Node.running
}

// now returns the time since n.epoch, monotonic and never 0.
func (n *Node) now() int64 { return int64(time.Since(n.epoch)) + 1 }

// startReader starts a reader and makes it the one taking requests.
func (n *Node) startReader() {
	r := &reader{}
	n.current.Store(r)
	n.bg.Add(1)
	go n.read(r)
}

// read serves requests while r is the current reader.
func (n *Node) read(r *reader) {
	defer n.bg.Done()
	for n.current.Load() == r {
		var m *nats.Msg
		select {
		case m = <-n.reqCh:
		case <-n.stop:
			return
		}
		n.serve(r, m)
	}
}

// runInline runs a request's handler on reader r, under the watchdog.
func (n *Node) runInline(r *reader, st *transport.RouteStat, start time.Time, j job) {
	r.route.Store(st)
	r.since.Store(int64(start.Sub(n.epoch)) + 1)
	n.served.Add(1)
	if len(n.busy) == 0 {
		select {
		case n.busy <- struct{}{}:
		default:
		}
	}
	var began time.Time
	if st.Timed() {
		began = start
	}
	n.run(st, start, began, j, r)
	r.since.Store(0)
}

// begin and end bracket the handler r runs.
func (r *reader) begin(ctx *handlerContext, j *job) {
	r.mu.Lock()
	r.ctx, r.replyTo, r.id = ctx, j.replyTo, j.req.id
	r.mu.Unlock()
}

func (r *reader) end(n *Node) {
	r.mu.Lock()
	if r.registered {
		n.running.remove(callKey(r.replyTo, r.id), r.ctx)
	}
	r.ctx, r.replyTo, r.id, r.registered = nil, "", nil, false
	r.mu.Unlock()
}

// watchdog hands the request channel to a new reader when the current one
// has been running one handler for stallAfter. Woken by the first request
// after a quiet spell, it then checks every stallAfter/2 while requests
// keep coming, less often as they stop, and sleeps once none has come for
// watchQuiet: a wake-up per request cost more than the handlers it
// watched.
func (n *Node) watchdog() {
	defer n.bg.Done()
	t := time.NewTimer(time.Hour)
	defer t.Stop()
	for {
		select {
		case <-n.stop:
			return
		case <-n.busy:
		}
		last, quiet, tick := n.served.Load(), time.Duration(0), stallAfter/2
		for quiet < watchQuiet {
			t.Reset(tick)
			select {
			case <-n.stop:
				return
			case <-t.C:
			}
			served := n.served.Load()
			if n.checkStall() || served != last {
				quiet, tick = 0, stallAfter/2
			} else {
				// Quiet: check less often, so sparse traffic does not keep
				// the watchdog ticking. A handler that stalls meanwhile is
				// caught by the next tick, at most watchTickMax later.
				quiet += tick
				tick = min(2*tick, watchTickMax)
			}
			last = served
		}
		// Going to sleep: a request that kicked meanwhile left its kick in
		// n.busy, which wakes the loop again at once.
	}
}

// The watchdog keeps checking for watchQuiet after the last request, at
// intervals that grow from stallAfter/2 to watchTickMax.
const (
	watchQuiet   = 50 * time.Millisecond
	watchTickMax = 8 * time.Millisecond
)

// checkStall rescues a stuck reader and reports whether the current reader
// is running a handler, and so needs watching.
func (n *Node) checkStall() bool {
	r := n.current.Load()
	since := r.since.Load()
	if since == 0 {
		return false
	}
	if n.now()-since < int64(stallAfter) {
		return true
	}
	if st := r.route.Load(); st != nil {
		st.Stalled(stallAfter)
	}
	// From now on another reader reads the cancels: make the stuck handler
	// cancelable.
	r.mu.Lock()
	if r.ctx != nil && !r.registered {
		n.running.add(callKey(r.replyTo, r.id), r.ctx)
		r.registered = true
	}
	r.mu.Unlock()
	n.startReader()
	return false
}

// running maps the calls (see callKey) of the handlers a cancel can reach
// to their contexts: those running on goroutines of their own, and those
// a reader was running when the watchdog handed the channel on.
type running struct {
	mu sync.Mutex
	m  map[string]*handlerContext
}

func (r *running) add(key string, ctx *handlerContext) {
	r.mu.Lock()
	r.m[key] = ctx
	r.mu.Unlock()
}

func (r *running) remove(key string, ctx *handlerContext) {
	r.mu.Lock()
	if r.m[key] == ctx {
		delete(r.m, key)
	}
	r.mu.Unlock()
}

func (r *running) get(key string) *handlerContext {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.m[key]
}
