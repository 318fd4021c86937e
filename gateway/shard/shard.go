package shard

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ipcord/ipcord/gateway"
)

// Shard runs one gateway.Conn over a real connection until its context
// ends: it dials, heartbeats, judges liveness, resumes or identifies
// again, backs off, keeps Discord's send limit and hands events to the
// handler through a bounded queue. One goroutine owns the Conn; a second
// reads the socket; a third runs the handler while there are events.
type Shard struct {
	cfg  Config
	id   int
	conn *gateway.Conn
	log  *slog.Logger
	q    *queue

	started atomic.Bool
	done    chan struct{} // closed when Run returns
	sendCh  chan *sendReq
	closeCh chan closeReq
	// gate, when not nil, holds events back from the handler until it is
	// closed: a shard adopted in a handoff delivers nothing until the
	// previous owner has let go (see Adoption).
	gate chan struct{}
	// going is closed when a connection first gets going (READY or
	// RESUMED).
	going     chan struct{}
	goingOnce sync.Once
	// progress wakes the loop when the handler finished an event, while
	// watchHandled is set (a HandOff waits for READY to be handled).
	progress     chan struct{}
	watchHandled atomic.Bool

	// Owned by the loop goroutine.
	pending *queued    // an event taken from the Conn that did not fit the queue
	sends   []*sendReq // user payloads waiting for a ready connection or the limiter
	paused  bool
	session string   // session id of the events being queued
	stopReq closeReq // the Close or HandOff that ended the loop, if one did

	members members

	// Set by Run: the handler's context, and the one that ends when it
	// must take no further event.
	hctx, pctx context.Context
	hwg        sync.WaitGroup // the handler goroutine, while one runs

	mu      sync.Mutex
	status  statusState
	handled gateway.Session // session id and seq of the last event the handler finished
}

// New returns a Shard for cfg; call Run to start it.
func New(cfg Config) (*Shard, error) {
	c, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	conn, err := gateway.New(c.Gateway)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	if c.Session.Valid() {
		conn.Restore(c.Session)
	}
	s := &Shard{
		cfg: c, id: c.Gateway.ShardID, conn: conn,
		log:  c.Logger.With("shard", c.Gateway.ShardID),
		q:    newQueue(c.QueueEvents, c.QueueBytes),
		done: make(chan struct{}), sendCh: make(chan *sendReq), closeCh: make(chan closeReq),
		going: make(chan struct{}), progress: make(chan struct{}, 1),
	}
	s.status.ID = s.id
	s.handled = c.Session
	s.session = c.Session.ID
	s.members.init()
	return s, nil
}

// ID is the shard's id.
func (s *Shard) ID() int { return s.id }

// Run connects and keeps the shard connected until ctx ends, Close is
// called, or Discord refuses the configuration. It returns nil after
// Close, ctx's error when ctx ended (the session is kept resumable: see
// Session), a *CloseError for a fatal close code, or ErrDecompressFailures.
// Run may be called once.
func (s *Shard) Run(ctx context.Context) error {
	if !s.started.CompareAndSwap(false, true) {
		return fmt.Errorf("%w: Run called twice", ErrConfig)
	}
	hctx, hcancel := context.WithCancel(context.WithoutCancel(ctx))
	pctx, pcancel := context.WithCancel(hctx)
	s.pctx, s.hctx = pctx, hctx
	err := s.loop(ctx)
	// The handler takes no further event and finishes the one in hand;
	// queued events are not lost, since Session reports the last one
	// handled and a RESUME from there replays the rest. A HandOff lets
	// that event finish with its context live (it was given to the
	// handler, so it counts as handled); a Close or ctx's end cancels it.
	pcancel()
	if drain := s.stopReq.drain; drain != nil {
		handled := make(chan struct{})
		go func() {
			s.hwg.Wait()
			close(handled)
		}()
		select {
		case <-handled:
		case <-drain.Done():
		}
	}
	hcancel()
	s.hwg.Wait()
	for _, r := range s.sends {
		r.finish(ErrNotRunning)
	}
	s.sends = nil
	s.members.failAll(ErrNotRunning)
	sess := s.conn.Session()
	s.update(func(st *statusState) {
		st.State = StateStopped
		st.session = sess
	})
	close(s.done)
	return err
}

// push queues it for the handler, starting the handler goroutine if none
// runs; false means the queue is full.
func (s *Shard) push(it queued) bool {
	ok, start := s.q.push(it)
	if start {
		s.hwg.Add(1)
		go func() {
			defer s.hwg.Done()
			s.handle(s.pctx, s.hctx)
		}()
	}
	return ok
}

// handle runs the handler over the queue, giving it hctx, until the
// queue is empty or pctx ends.
func (s *Shard) handle(pctx, hctx context.Context) {
	if s.gate != nil {
		select {
		case <-s.gate:
		case <-pctx.Done():
			return
		}
	}
	for pctx.Err() == nil {
		it, ok := s.q.pop(pctx.Done())
		if !ok {
			return
		}
		if s.cfg.Handler != nil {
			s.cfg.Handler(hctx, it.ev)
		}
		s.mu.Lock()
		if it.ev.Session != s.handled.ID {
			s.handled = gateway.Session{ID: it.ev.Session}
		}
		if it.ev.Seq > s.handled.Seq {
			s.handled.Seq = it.ev.Seq
		}
		s.mu.Unlock()
		if s.watchHandled.Load() {
			select {
			case s.progress <- struct{}{}:
			default:
			}
		}
	}
}

// Session returns what a later process needs to RESUME this shard's
// session: its id, the resume URL and the sequence number of the last
// event the handler finished (so a RESUME replays the events still queued
// when the shard stopped). It is invalid when there is no session.
func (s *Shard) Session() gateway.Session {
	s.mu.Lock()
	defer s.mu.Unlock()
	sess := s.status.session
	if !sess.Valid() {
		return gateway.Session{}
	}
	if s.handled.ID == sess.ID && s.handled.Seq < sess.Seq {
		sess.Seq = s.handled.Seq
	} else if s.handled.ID != sess.ID {
		// Nothing of this session handled yet: replay it all.
		sess.Seq = 0
	}
	return sess
}

// Status returns a snapshot of the shard's state and counters.
func (s *Shard) Status() Status {
	s.mu.Lock()
	st := s.status.Status
	s.mu.Unlock()
	st.Queued = s.q.len()
	return st
}

type closeReq struct {
	end bool
	// drain, set by HandOff, lets the handler finish the event in hand
	// with its context live, until drain ends.
	drain context.Context
}

// Close ends Run and waits for it to return (or for ctx to end). With end
// false the connection is closed with 4000, which keeps the session
// resumable (Session exports it); with end true it is closed with 1000,
// which ends the session on Discord's side.
func (s *Shard) Close(ctx context.Context, end bool) error {
	return s.stop(ctx, closeReq{end: end})
}

// HandOff stops the shard at a dispatch boundary so that another process
// can resume its session without losing or repeating an event: the
// handler takes no further event and finishes the one in hand with its
// context live (until ctx ends), the connection closes with 4000 (never
// 1000 or 1001, so Discord keeps the session), and HandOff returns the
// session to resume, whose Seq is the last event the handler finished.
// Discord replays the events after it, queued ones included, to whoever
// resumes. It returns ErrNotRunning when Run was never called.
func (s *Shard) HandOff(ctx context.Context) (gateway.Session, error) {
	if !s.started.Load() {
		return gateway.Session{}, ErrNotRunning
	}
	select {
	case s.closeCh <- closeReq{drain: ctx}:
	case <-s.done:
	case <-ctx.Done():
		return gateway.Session{}, ctx.Err()
	}
	// Once the loop has taken the request the shard stops whatever ctx
	// does (ctx then only cuts the handler's last event short), so the
	// caller always gets the session of a stopped shard.
	<-s.done
	return s.Session(), nil
}

// stop asks the loop to end with req and waits for Run to return.
func (s *Shard) stop(ctx context.Context, req closeReq) error {
	if !s.started.Load() {
		return ErrNotRunning
	}
	select {
	case s.closeCh <- req:
	case <-s.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-s.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// statusState is the loop's view of Status plus the session.
type statusState struct {
	Status
	session gateway.Session
}

func (s *Shard) setState(st State) {
	s.mu.Lock()
	s.status.State = st
	s.mu.Unlock()
}

func (s *Shard) update(f func(*statusState)) {
	s.mu.Lock()
	f(&s.status)
	s.mu.Unlock()
}

// sleep waits d, or until ctx ends or Close is called.
func (s *Shard) sleep(ctx context.Context, d time.Duration) (closeReq, bool, error) {
	if d <= 0 {
		return closeReq{}, false, nil
	}
	t := s.cfg.Clock.TimerAt(s.cfg.Clock.Now().Add(d))
	defer t.Stop()
	for {
		select {
		case <-t.C():
			return closeReq{}, false, nil
		case req := <-s.closeCh:
			return req, true, nil
		case req := <-s.sendCh:
			s.sends = append(s.sends, req)
		case <-ctx.Done():
			return closeReq{}, false, ctx.Err()
		}
	}
}
