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
// runs the handler; a third reads the socket.
type Shard struct {
	cfg  Config
	id   int
	conn *gateway.Conn
	log  *slog.Logger
	q    *queue
	buf  []byte

	started atomic.Bool
	done    chan struct{} // closed when Run returns
	sendCh  chan *sendReq
	closeCh chan closeReq

	// Owned by the loop goroutine.
	pending *queued    // an event taken from the Conn that did not fit the queue
	sends   []*sendReq // user payloads waiting for a ready connection or the limiter
	paused  bool
	session string // session id of the events being queued

	members members

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
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		s.handle(hctx)
	}()
	err := s.loop(ctx)
	// The handler finishes the event in hand; queued events are not lost,
	// since Session reports the last one handled and a RESUME from there
	// replays the rest.
	hcancel()
	wg.Wait()
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

// handle runs the handler over the queue.
func (s *Shard) handle(ctx context.Context) {
	for {
		it, ok := s.q.pop(ctx)
		if !ok {
			return
		}
		if s.cfg.Handler != nil {
			s.cfg.Handler(ctx, it.ev)
		}
		s.mu.Lock()
		if it.session != s.handled.ID {
			s.handled = gateway.Session{ID: it.session}
		}
		if it.ev.Seq > s.handled.Seq {
			s.handled.Seq = it.ev.Seq
		}
		s.mu.Unlock()
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
	end  bool
	done chan struct{}
}

// Close ends Run and waits for it to return (or for ctx to end). With end
// false the connection is closed with 4000, which keeps the session
// resumable (Session exports it); with end true it is closed with 1000,
// which ends the session on Discord's side.
func (s *Shard) Close(ctx context.Context, end bool) error {
	if !s.started.Load() {
		return ErrNotRunning
	}
	req := closeReq{end: end, done: make(chan struct{})}
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
