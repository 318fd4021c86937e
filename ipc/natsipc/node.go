package natsipc

import (
	"context"
	"fmt"
	"github.com/ipcord/ipcord/ipc/internal/transport"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ipcord/ipcord/ipc"
	"github.com/nats-io/nats.go"
)

// Config configures a Node. The zero value is a caller-only node under the
// subject prefix "ipcord"; set Cluster and Router to serve routes.
type Config struct {
	// Cluster names this process: the name other nodes call it by and the
	// name its Broadcast results carry. Required when Router is set;
	// [A-Za-z0-9_:-]{1,64}. A caller-only node may set it too, so the
	// handlers it calls see it as Request.Peer.
	Cluster string
	// Router holds the routes this node serves. Nil serves nothing: the
	// node only calls.
	Router *ipc.Router
	// Prefix is the first subject token(s) of every subject natsipc uses,
	// so several independent deployments can share one NATS account.
	// Default "ipcord".
	Prefix string
	// CallTimeout is the deadline of calls made without one and of
	// requests arriving without one. Default 30 s.
	CallTimeout time.Duration
	// Heartbeat is how often a serving node announces itself (default
	// 1 s); a member not heard from for HeartbeatMisses of its own
	// intervals (default 3) is dropped from membership, and a Broadcast
	// stops waiting for it.
	Heartbeat       time.Duration
	HeartbeatMisses int
	// MaxInFlight limits the requests this node runs at once; further ones
	// are answered overloaded. Default 1024.
	MaxInFlight int
	// Hooks observe every request served. Optional.
	Hooks *ipc.Hooks
	// Logger receives diagnostics. Nil logs nothing.
	Logger *slog.Logger
}

// Node is one process on a NATS-connected set of clusters: it serves its
// Router as a named cluster and calls routes on the others. It is an
// ipc.Caller whose calls go to any instance of the route.
type Node struct {
	nc     *nats.Conn
	owned  bool
	cfg    Config
	prefix string // Prefix + "."
	// clusterPrefix is "cluster.<Cluster>.": after prefix, it starts the
	// subjects of calls to this cluster.
	clusterPrefix string
	// cancelSubject is where callers that give up say so.
	cancelSubject string
	inbox         string // reply subject prefix of calls, ending in "."
	// bcastInbox is the one reply subject of this node's Broadcasts. Its
	// replies queue on bcastCh, read by the Broadcasts waiting (see
	// requestMany) and drained by the heartbeat loop.
	bcastInbox string
	bcastSub   *nats.Subscription
	bcastCh    chan *nats.Msg
	log        *slog.Logger

	inboxSub  *nats.Subscription
	statusCh  chan nats.Status
	stop      chan struct{}
	bg        sync.WaitGroup // the status watcher and the heartbeat loop
	handlers  sync.WaitGroup
	reqCh     chan *nats.Msg // requests for every serving subscription
	closeOnce sync.Once

	pmu       sync.Mutex // pending calls, apart from mu so replies do not queue behind state changes
	nextToken uint64
	pending   map[uint64]chan *nats.Msg // calls, by the token ending their reply subject
	bpending  map[uint64]chan *nats.Msg // Broadcasts, by the id in their replies

	mu        sync.Mutex
	connected bool
	connCh    chan struct{} // closed once connected; replaced on disconnect
	lostCh    chan struct{} // closed on disconnect; replaced after
	closed    bool
	shutting  bool
	serveSubs []*nats.Subscription
	routeSubs map[string]*nats.Subscription

	members members

	// The serving side keeps its counters apart from mu, which every call
	// takes: requests and calls must not queue on one lock.
	stopping atomic.Bool                  // Shutdown or Close began: refuse new requests
	inflight atomic.Int32                 // handlers running
	contexts transport.Group[ipc.Request] // the running handlers' contexts, canceled by Close
	running  running                      // the same, by reply subject, for cancels

	// The dispatcher (dispatch.go).
	current atomic.Pointer[reader] // the reader taking requests
	busy    chan struct{}          // wakes the watchdog: the reader runs a handler
	served  atomic.Uint32          // handlers run inline, for the watchdog to see activity
	epoch   time.Time
	stats   transport.RouteStats
}

// New joins the NATS connection nc as a node. nc stays the caller's: its
// options carry auth, TLS and reconnect policy (use nats.MaxReconnects(-1)
// for a node that should outlive server restarts), and Close does not
// close it. With cfg.Router set, the node serves its routes as cfg.Cluster
// and announces itself to the others until Shutdown or Close.
func New(nc *nats.Conn, cfg Config) (*Node, error) {
	if nc == nil {
		return nil, fmt.Errorf("%w: nil NATS connection", ErrConfig)
	}
	if cfg.Router != nil && cfg.Cluster == "" {
		return nil, fmt.Errorf("%w: a node with a Router needs a Cluster name", ErrInvalidCluster)
	}
	if cfg.Cluster != "" && !ValidCluster(cfg.Cluster) {
		return nil, fmt.Errorf("%w: %q", ErrInvalidCluster, cfg.Cluster)
	}
	if cfg.Prefix == "" {
		cfg.Prefix = "ipcord"
	}
	if strings.ContainsAny(cfg.Prefix, " \t\r\n*>") || strings.HasPrefix(cfg.Prefix, ".") || strings.HasSuffix(cfg.Prefix, ".") {
		return nil, fmt.Errorf("%w: invalid subject prefix %q", ErrConfig, cfg.Prefix)
	}
	if cfg.CallTimeout <= 0 {
		cfg.CallTimeout = 30 * time.Second
	}
	if cfg.Heartbeat <= 0 {
		cfg.Heartbeat = time.Second
	}
	if cfg.HeartbeatMisses <= 0 {
		cfg.HeartbeatMisses = 3
	}
	if cfg.MaxInFlight <= 0 {
		cfg.MaxInFlight = 1024
	}
	n := &Node{
		nc:         nc,
		cfg:        cfg,
		prefix:     cfg.Prefix + ".",
		inbox:      nc.NewInbox() + ".",
		bcastInbox: nc.NewInbox(),
		log:        cfg.Logger,
		stop:       make(chan struct{}),
		pending:    make(map[uint64]chan *nats.Msg),
		bpending:   make(map[uint64]chan *nats.Msg),
		connCh:     make(chan struct{}),
		lostCh:     make(chan struct{}),
		routeSubs:  make(map[string]*nats.Subscription),
		busy:       make(chan struct{}, 1),
		epoch:      time.Now(),
	}
	n.clusterPrefix = "cluster." + cfg.Cluster + "."
	n.cancelSubject = n.prefix + "cancel"
	n.running.m = make(map[string]*handlerContext)
	if n.log == nil {
		n.log = slog.New(slog.DiscardHandler)
	}
	n.members.init()
	n.statusCh = nc.StatusChanged()
	n.syncStatus()
	if err := n.start(); err != nil {
		n.Close()
		return nil, err
	}
	return n, nil
}

// Connect dials url with opts (auth, TLS and the like; reconnecting
// forever unless opts say otherwise) and joins as a node that owns the
// connection: Close closes it too.
func Connect(url string, cfg Config, opts ...nats.Option) (*Node, error) {
	opts = append([]nats.Option{nats.MaxReconnects(-1), nats.Name("ipcord " + cfg.Cluster)}, opts...)
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		return nil, fmt.Errorf("natsipc: connecting to %s: %w", url, err)
	}
	n, err := New(nc, cfg)
	if err != nil {
		nc.Close()
		return nil, err
	}
	n.owned = true
	return n, nil
}

// start subscribes what every node needs (its reply inbox and presence)
// and, for a serving node, its routes; then starts the background loops.
func (n *Node) start() error {
	var err error
	if n.inboxSub, err = n.nc.Subscribe(n.inbox+"*", n.onReply); err != nil {
		return fmt.Errorf("natsipc: subscribing the reply inbox: %w", err)
	}
	n.bcastCh = make(chan *nats.Msg, bcastQueue)
	if n.bcastSub, err = n.nc.ChanSubscribe(n.bcastInbox, n.bcastCh); err != nil {
		return fmt.Errorf("natsipc: subscribing the broadcast inbox: %w", err)
	}
	if err := n.subscribePresence(); err != nil {
		return err
	}
	if n.cfg.Router != nil {
		if err := n.subscribeServe(); err != nil {
			return err
		}
	}
	// A round trip makes the server hold the subscriptions before New
	// returns, so a call made right after finds this node's routes. Offline,
	// nats.go replays them on reconnect instead.
	if err := n.nc.FlushTimeout(n.cfg.CallTimeout); err != nil {
		n.log.Debug("natsipc: flushing subscriptions", "err", err)
	}
	n.bg.Add(2)
	go n.watchStatus()
	go n.heartbeatLoop()
	// Ask the serving nodes to announce themselves now rather than at
	// their next heartbeat, so Members fills within a round trip.
	n.ping()
	return nil
}

// Conn returns the node's NATS connection.
func (n *Node) Conn() *nats.Conn { return n.nc }

// Shutdown leaves gracefully: the node stops taking requests (its
// subscriptions go, so queue-group calls go to other instances), tells the
// others it left, and waits for running handlers until ctx ends; then it
// closes like Close.
func (n *Node) Shutdown(ctx context.Context) error {
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		return ipc.ErrClosed
	}
	n.shutting = true
	n.stopping.Store(true)
	subs := n.takeServeSubsLocked()
	n.mu.Unlock()
	for _, s := range subs {
		s.Unsubscribe()
	}
	if n.cfg.Router != nil {
		n.publishPresence(true)
		n.nc.Flush()
	}
	done := make(chan struct{})
	go func() { n.handlers.Wait(); close(done) }()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		err = ctx.Err()
	}
	n.Close()
	return err
}

// Close leaves at once: running handlers' contexts are canceled (Close
// waits for them to return), pending calls fail with ipc.ErrClosed, and a
// connection made by Connect is closed.
func (n *Node) Close() error {
	n.closeOnce.Do(func() {
		n.mu.Lock()
		n.closed = true
		n.stopping.Store(true)
		subs := n.takeServeSubsLocked()
		n.mu.Unlock()
		n.contexts.Cancel()
		for _, s := range subs {
			s.Unsubscribe()
		}
		n.members.unsubscribe()
		if n.inboxSub != nil {
			n.inboxSub.Unsubscribe()
		}
		if n.bcastSub != nil {
			n.bcastSub.Unsubscribe()
		}
		close(n.stop)
		n.nc.RemoveStatusListener(n.statusCh)
		n.bg.Wait()
		n.handlers.Wait()
		if n.owned {
			n.nc.Close()
		}
	})
	return nil
}

// bcastQueue is the room for broadcast replies not yet read.
const bcastQueue = 1 << 12

// watchStatus follows the connection's state: a disconnect fails the
// calls in flight with ipc.ErrConnectionLost, and a reconnect releases
// the calls waiting for a connection.
func (n *Node) watchStatus() {
	defer n.bg.Done()
	for range n.statusCh {
		if n.syncStatus() {
			n.ping()
		}
	}
}

// syncStatus reads the connection's state and reports whether the node
// just became connected again.
func (n *Node) syncStatus() (reconnected bool) {
	up := n.nc.Status() == nats.CONNECTED
	n.mu.Lock()
	defer n.mu.Unlock()
	switch {
	case up && !n.connected:
		n.connected = true
		close(n.connCh)
		return true
	case !up && n.connected:
		n.connected = false
		n.connCh = make(chan struct{})
		close(n.lostCh)
		n.lostCh = make(chan struct{})
	}
	return false
}

// heartbeatLoop announces a serving node, picks up routes added to its
// Router, and expires members that went quiet, each at its own deadline.
func (n *Node) heartbeatLoop() {
	defer n.bg.Done()
	t := time.NewTicker(n.cfg.Heartbeat)
	defer t.Stop()
	expiry := time.NewTimer(n.cfg.Heartbeat)
	defer expiry.Stop()
	for {
		select {
		case <-n.stop:
			return
		case <-t.C:
			n.drainBroadcastReplies()
			if n.cfg.Router != nil && !n.isShutting() {
				n.publishPresence(false)
				if err := n.subscribeRoutes(); err != nil {
					n.log.Warn("natsipc: subscribing new routes", "err", err)
				}
			}
			continue
		case <-expiry.C:
		case <-n.members.kick:
		}
		next := n.members.expire(time.Now())
		wait := n.cfg.Heartbeat
		if !next.IsZero() {
			// A millisecond past the deadline, so the member has expired
			// when the timer fires.
			wait = time.Until(next) + time.Millisecond
		}
		expiry.Reset(wait)
	}
}

func (n *Node) isShutting() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.shutting || n.closed
}

func (n *Node) takeServeSubsLocked() []*nats.Subscription {
	subs := n.serveSubs
	n.serveSubs = nil
	for _, s := range n.routeSubs {
		subs = append(subs, s)
	}
	clear(n.routeSubs)
	return subs
}
