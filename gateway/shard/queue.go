package shard

import "sync"

// queued is an event in the queue; its Session tells the handler side
// which session the last handled sequence number is of.
type queued struct {
	ev Event
}

// queue is the bounded event queue between the shard's loop and its
// handler goroutine. The loop never blocks on it: push fails when the
// queue is full, and the loop pauses reading until room signals.
//
// The handler goroutine runs only while events come: the push that finds
// none running asks for one; it waits for the next event while they flow,
// and ends when the queue is empty and retire was called (by the loop, once
// the connection has been quiet for a while). An idle shard has no handler
// goroutine, and a busy one does not start one per event.
type queue struct {
	maxEvents, maxBytes int

	mu      sync.Mutex
	items   []queued // ring buffer
	head    int
	n       int
	bytes   int
	full    bool          // a push failed since the last pop
	running bool          // a handler goroutine exists
	retired bool          // the handler goroutine ends when it finds the queue empty
	room    chan struct{} // signalled (cap 1) when a pop makes room after a failed push
	ready   chan struct{} // signalled (cap 1) when a push or retire has news for the handler
}

func newQueue(maxEvents, maxBytes int) *queue {
	return &queue{
		maxEvents: maxEvents, maxBytes: maxBytes,
		room: make(chan struct{}, 1), ready: make(chan struct{}, 1),
	}
}

func (q *queue) signal() {
	select {
	case q.ready <- struct{}{}:
	default:
	}
}

// push adds q unless the queue is full. An event larger than maxBytes
// goes in alone into an empty queue, so it cannot wedge the shard. start
// reports that no handler goroutine is running: the caller starts one.
func (q *queue) push(it queued) (ok, start bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	size := len(it.ev.Data)
	if q.n > 0 && (q.n >= q.maxEvents || q.bytes+size > q.maxBytes) {
		q.full = true
		return false, false
	}
	if q.n == len(q.items) {
		q.grow()
	}
	q.items[(q.head+q.n)%len(q.items)] = it
	q.n++
	q.bytes += size
	q.retired = false
	start = !q.running
	q.running = true
	if q.n == 1 {
		q.signal()
	}
	return true, start
}

func (q *queue) grow() {
	size := max(16, 2*len(q.items))
	size = min(size, q.maxEvents)
	if size <= len(q.items) {
		size = len(q.items) + 1
	}
	items := make([]queued, size)
	for i := range q.n {
		items[i] = q.items[(q.head+i)%len(q.items)]
	}
	q.items, q.head = items, 0
}

// pop takes the next event, waiting for one. false means the handler
// goroutine must end: done was closed, or the queue is empty and retired
// (the next push starts another).
func (q *queue) pop(done <-chan struct{}) (queued, bool) {
	for {
		q.mu.Lock()
		if q.n > 0 {
			it := q.take()
			q.mu.Unlock()
			return it, true
		}
		if q.retired {
			q.running, q.retired = false, false
			q.items, q.head = nil, 0 // an idle shard keeps no ring; the next burst makes one
			q.mu.Unlock()
			return queued{}, false
		}
		q.mu.Unlock()
		select {
		case <-q.ready:
		case <-done:
			return queued{}, false
		}
	}
}

// retire makes a handler goroutine waiting on an empty queue end.
func (q *queue) retire() {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.running && q.n == 0 {
		q.retired = true
		q.signal()
	}
}

// take removes the oldest event, with q.mu held and q.n > 0.
func (q *queue) take() queued {
	it := q.items[q.head]
	q.items[q.head] = queued{}
	q.head = (q.head + 1) % len(q.items)
	q.n--
	q.bytes -= len(it.ev.Data)
	if q.full {
		q.full = false
		select {
		case q.room <- struct{}{}:
		default:
		}
	}
	return it
}

func (q *queue) len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.n
}
