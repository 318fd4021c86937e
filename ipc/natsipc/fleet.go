package natsipc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/ipcord/ipcord/gateway"
	"github.com/ipcord/ipcord/gateway/shard"
	"github.com/ipcord/ipcord/gateway/shard/handoff"
)

// Fleet defaults.
const (
	DefaultLeaseTTL           = 3 * time.Second
	DefaultCheckpointInterval = 250 * time.Millisecond
	DefaultCheckpointEvents   = 100
)

// ErrFleet: a key-value operation of the Fleet failed, or its config
// cannot work.
var ErrFleet = errors.New("natsipc: fleet")

var fleetName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// FleetConfig configures a Fleet. Name, Node and Manager are required.
type FleetConfig struct {
	// Name names the fleet: its key-value buckets are
	// ipcord_fleet_<Name> (leases) and ipcord_ckpt_<Name> (checkpoints).
	Name string
	// Node is this member's natsipc node: its Cluster is the member's
	// name, and its Router must carry the handoff routes of Source (Run
	// checks). Members take shards from each other through it.
	Node *Node
	// Manager runs this member's shards. Start it with no shards
	// (ManagerConfig.Shards an empty slice) and the bot's ShardCount;
	// give its Shard.Identify a shared IdentifyLimiter so the fleet's
	// IDENTIFYs keep Discord's buckets.
	Manager *shard.Manager
	// Source serves Manager's shards to the other members over Node.
	Source *handoff.Source
	// Export and Import carry the application's state for a shard in
	// checkpoints (Import also gets what a handoff carries).
	Export func(shard int) json.RawMessage
	Import func(shard int, state json.RawMessage)
	// LeaseTTL is how long a member's lease on a shard outlives the
	// member: a member killed without a goodbye loses its shards to the
	// others after it. Leases are renewed every LeaseTTL/5; a member
	// whose renewals fail or lag (NATS unreachable, the process starved
	// of CPU) stops a shard 3/4 LeaseTTL after the last renewal it sent,
	// before another member can take it (see Holds). Default 3 s.
	LeaseTTL time.Duration
	// CheckpointInterval and CheckpointEvents bound how far a checkpoint
	// lags behind the events handled: a crash repeats at most those
	// events. Defaults 250 ms and 100 events.
	CheckpointInterval time.Duration
	CheckpointEvents   int
	// Marks, when set, turns dedupe on: a member resuming a dead
	// member's shard from its checkpoint asks Marks for the last event
	// handled and resumes after it, so the events the dead member handled
	// after its checkpoint are not handled again. How few repeats remain
	// depends on where the marks are kept (see Marks): none when they are
	// durable with the handler's effects, one per shard with KVMarks.
	// Import then gets the checkpoint's state, from before the skipped
	// events: keep what they change in the store that keeps the marks.
	Marks Marks
	// Logger receives moves at info level and failures at warn.
	Logger *slog.Logger
}

// Fleet spreads a bot's shards over the processes of a NATS fleet. Each
// member holds a lease per shard it runs, in JetStream key-value, and
// checkpoints (session id, seq of the last event handled, resume URL, and
// the application's state) at most every CheckpointInterval or
// CheckpointEvents events. Members balance the shards between them by
// handoff (package handoff, over NATS), so a member that joins or leaves
// gracefully (Leave) costs no lost event, no repeat and no IDENTIFY. A
// member that dies leaves its leases to expire; the others then resume
// its shards from their checkpoints: nothing is lost, and the events after
// the checkpoint are handled again (each carries its shard and seq, so
// a handler can drop them). Only a shard without a checkpoint IDENTIFYs,
// through the Manager's IdentifyLimiter.
type Fleet struct {
	cfg    FleetConfig
	me     string
	leases jetstream.KeyValue
	ckpts  jetstream.KeyValue
	log    *slog.Logger

	mu      sync.Mutex
	held    map[int]lease           // leases held, with their fence deadlines
	fenced  map[int]bool            // shards to stop: their lease is past its deadline
	saved   map[int]gateway.Session // last checkpointed session per shard
	events  int                     // events handled since the last checkpoint
	kick    chan struct{}
	leaving bool

	saveMu      sync.Mutex     // one checkpoint write at a time
	wg          sync.WaitGroup // checkpoints waiting for a shard to be READY
	fenceWake   chan struct{}
	renewPaused atomic.Bool // tests: renewals stop, as in a member starved of CPU
}

// NewFleet creates (or opens) the fleet's buckets.
func NewFleet(ctx context.Context, cfg FleetConfig) (*Fleet, error) {
	if !fleetName.MatchString(cfg.Name) || cfg.Node == nil || cfg.Manager == nil || cfg.Source == nil {
		return nil, fmt.Errorf("%w: Name ([A-Za-z0-9_-]{1,64}), Node, Manager and Source are required", ErrFleet)
	}
	if cfg.Node.cfg.Cluster == "" {
		return nil, fmt.Errorf("%w: the Node needs a Cluster name", ErrFleet)
	}
	if cfg.LeaseTTL <= 0 {
		cfg.LeaseTTL = DefaultLeaseTTL
	}
	if cfg.CheckpointInterval <= 0 {
		cfg.CheckpointInterval = DefaultCheckpointInterval
	}
	if cfg.CheckpointEvents <= 0 {
		cfg.CheckpointEvents = DefaultCheckpointEvents
	}
	js, err := jetstream.New(cfg.Node.Conn())
	if err != nil {
		return nil, fmt.Errorf("%w: JetStream: %w", ErrFleet, err)
	}
	f := &Fleet{
		cfg: cfg, me: cfg.Node.cfg.Cluster, log: cfg.Logger,
		held: map[int]lease{}, fenced: map[int]bool{}, saved: map[int]gateway.Session{},
		kick: make(chan struct{}, 1), fenceWake: make(chan struct{}, 1),
	}
	if f.log == nil {
		f.log = slog.New(slog.DiscardHandler)
	}
	f.leases, err = js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket: "ipcord_fleet_" + cfg.Name, Description: "ipcord: shard leases", TTL: cfg.LeaseTTL, History: 1,
	})
	if err == nil {
		f.ckpts, err = js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
			Bucket: "ipcord_ckpt_" + cfg.Name, Description: "ipcord: shard checkpoints", History: 1,
		})
	}
	if err != nil {
		return nil, fmt.Errorf("%w: key-value buckets: %w", ErrFleet, err)
	}
	return f, nil
}

// Handled counts an event handled, so that a checkpoint follows within
// CheckpointEvents events; call it from the shard handler.
func (f *Fleet) Handled() {
	f.mu.Lock()
	f.events++
	full := f.events >= f.cfg.CheckpointEvents
	f.mu.Unlock()
	if full {
		select {
		case f.kick <- struct{}{}:
		default:
		}
	}
}

// Leave makes this member hand every shard to the others (they take them
// by handoff) and returns once it holds none. Run must be running. When
// there is no other member, or ctx ends before they took everything, the
// shards still held stop at a dispatch boundary, their exact sessions are
// checkpointed and their leases dropped, so whoever takes them next
// resumes them with no repeat; Leave then says so in an error matching
// ErrFleet.
func (f *Fleet) Leave(ctx context.Context) error {
	err := f.leave(ctx)
	if err == nil {
		return nil
	}
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	n := f.park(pctx)
	return fmt.Errorf("%w; %d shards left checkpointed for the next member", err, n)
}

// park stops every shard held here and checkpoints its session as the
// stop left it, then frees its lease; it returns how many it stopped.
func (f *Fleet) park(ctx context.Context) (n int) {
	for _, id := range f.cfg.Manager.Shards() {
		// The lease is taken out of the renewals first: what follows is
		// written only while it is still good.
		f.mu.Lock()
		l, ok := f.held[id]
		delete(f.held, id)
		f.mu.Unlock()
		sess, err := f.cfg.Manager.HandOff(ctx, id)
		if err != nil {
			// Still running here: back to the renewals (and the fence).
			if ok {
				f.mu.Lock()
				f.held[id] = l
				f.mu.Unlock()
			}
			f.log.Warn("natsipc: fleet: stopping a shard nobody took", "shard", id, "err", err)
			continue
		}
		n++
		if !ok || !time.Now().Before(l.until) {
			f.log.Warn("natsipc: fleet: stopped a shard whose lease had lapsed; the next member resumes it from its last checkpoint", "shard", id)
			continue
		}
		f.saveMu.Lock()
		err = f.save(ctx, id, sess)
		f.saveMu.Unlock()
		if err != nil {
			f.log.Warn("natsipc: fleet: checkpointing a shard nobody took", "shard", id, "err", err)
		}
		f.leases.Delete(ctx, leaseKey(id), jetstream.LastRevision(l.rev))
		f.log.Info("natsipc: fleet: left a shard checkpointed for the next member", "shard", id, "seq", sess.Seq)
	}
	return n
}

func (f *Fleet) leave(ctx context.Context) error {
	f.mu.Lock()
	f.leaving = true
	f.mu.Unlock()
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	var announced time.Time
	for {
		if len(f.cfg.Manager.Shards()) == 0 && len(f.cfg.Source.Lent()) == 0 {
			return nil
		}
		// The mark expires with the leases: renew it while leaving.
		if time.Since(announced) > f.cfg.LeaseTTL/4 {
			if _, err := f.leases.Put(ctx, "leaving."+f.me, []byte("1")); err != nil {
				return fmt.Errorf("%w: announcing the leave: %w", ErrFleet, err)
			}
			announced = time.Now()
			if len(f.members(ctx)) == 0 && len(f.cfg.Source.Lent()) == 0 {
				return fmt.Errorf("%w: no other member to take the shards", ErrFleet)
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w: the others did not take every shard in time: %w", ErrFleet, ctx.Err())
		case <-t.C:
		}
	}
}

// Run keeps the leases, the checkpoints and the balance until ctx ends.
func (f *Fleet) Run(ctx context.Context) error {
	// The balance waits on handoffs, and a pulled shard may wait seconds
	// for an IDENTIFY slot or for its giver's handler: leases and
	// checkpoints are kept on goroutines of their own, so that a slow
	// pull never lets the lease of a shard held here lapse (another
	// member would then run it too) nor leave a new session
	// uncheckpointed (a crash would cost an IDENTIFY).
	var wg sync.WaitGroup
	defer wg.Wait()
	defer f.wg.Wait()
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	wg.Go(func() { f.keep(lctx) })
	wg.Go(func() { f.fence(lctx) })
	wg.Go(func() { f.checkpoints(lctx) })
	tick := time.NewTicker(f.cfg.LeaseTTL / 4)
	defer tick.Stop()
	// A member announcing its leave is answered at once, not at the next
	// tick: its shards are pulled while it waits.
	var leaving <-chan jetstream.KeyValueEntry
	if w, err := f.leases.Watch(ctx, "leaving.*", jetstream.UpdatesOnly()); err == nil {
		defer w.Stop()
		leaving = w.Updates()
	} else {
		f.log.Warn("natsipc: fleet: watching for members leaving; the balance waits for its tick", "err", err)
	}
	f.balance(ctx)
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case e, ok := <-leaving:
			if !ok {
				leaving = nil // the watch ended: ticks only
				continue
			}
			if e != nil && e.Operation() == jetstream.KeyValuePut && e.Key() != "leaving."+f.me {
				f.balance(ctx)
			}
		case <-tick.C:
			f.balance(ctx)
		}
	}
}
