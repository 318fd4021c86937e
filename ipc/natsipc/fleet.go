package natsipc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
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
	// others after it. Default 3 s.
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
	revs    map[int]uint64          // lease revisions held
	saved   map[int]gateway.Session // last checkpointed session per shard
	events  int                     // events handled since the last checkpoint
	kick    chan struct{}
	leaving bool
}

// checkpoint is a shard's value in the checkpoint bucket.
type checkpoint struct {
	Session gateway.Session `json:"session"`
	State   json.RawMessage `json:"state,omitempty"`
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
	f := &Fleet{cfg: cfg, me: cfg.Node.cfg.Cluster, log: cfg.Logger, revs: map[int]uint64{}, saved: map[int]gateway.Session{}, kick: make(chan struct{}, 1)}
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
		sess, err := f.cfg.Manager.HandOff(ctx, id)
		if err != nil {
			f.log.Warn("natsipc: fleet: stopping a shard nobody took", "shard", id, "err", err)
			continue
		}
		if err := f.save(ctx, id, sess); err != nil {
			f.log.Warn("natsipc: fleet: checkpointing a shard nobody took", "shard", id, "err", err)
		}
		f.mu.Lock()
		rev, ok := f.revs[id]
		delete(f.revs, id)
		f.mu.Unlock()
		if ok {
			f.leases.Delete(ctx, leaseKey(id), jetstream.LastRevision(rev))
		}
		f.log.Info("natsipc: fleet: left a shard checkpointed for the next member", "shard", id, "seq", sess.Seq)
		n++
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
	tick := time.NewTicker(f.cfg.LeaseTTL / 4)
	defer tick.Stop()
	ckpt := time.NewTicker(f.cfg.CheckpointInterval)
	defer ckpt.Stop()
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
			f.refresh(ctx)
			f.balance(ctx)
		case <-ckpt.C:
			f.checkpoint(ctx)
		case <-f.kick:
			f.checkpoint(ctx)
		}
	}
}

func leaseKey(id int) string { return "shard." + strconv.Itoa(id) }

// refresh renews the leases of the shards held (or lent, until the
// successor commits); a lease lost means another member took the shard,
// which must then stop here.
func (f *Fleet) refresh(ctx context.Context) {
	keep := slices.Concat(f.cfg.Manager.Shards(), f.cfg.Source.Lent())
	f.mu.Lock()
	revs := make(map[int]uint64, len(keep))
	for _, id := range keep {
		if r, ok := f.revs[id]; ok {
			revs[id] = r
		}
	}
	f.mu.Unlock()
	for id, rev := range revs {
		next, err := f.leases.Update(ctx, leaseKey(id), []byte(f.me), rev)
		if err != nil {
			f.mu.Lock()
			delete(f.revs, id)
			f.mu.Unlock()
			// A shard that moved by handoff meanwhile has its new
			// owner's lease; one still running here must stop, since
			// another member may resume it.
			if f.cfg.Manager.Shard(id) != nil && ctx.Err() == nil {
				f.log.Warn("natsipc: fleet: lease lost; stopping the shard", "shard", id, "err", err)
				f.checkpointOne(ctx, id)
				f.cfg.Manager.HandOff(ctx, id)
			}
			continue
		}
		f.mu.Lock()
		f.revs[id] = next
		f.mu.Unlock()
	}
}

// members returns the members taking shards (not leaving), sorted.
func (f *Fleet) members(ctx context.Context) []string {
	ms := append(f.cfg.Node.Members(), f.me)
	slices.Sort(ms)
	ms = slices.Compact(ms)
	out := ms[:0]
	for _, m := range ms {
		if e, err := f.leases.Get(ctx, "leaving."+m); err == nil && e != nil {
			continue
		}
		out = append(out, m)
	}
	return out
}

// owners reads the lease bucket: shard -> member.
func (f *Fleet) owners(ctx context.Context) map[int]string {
	out := map[int]string{}
	keys, err := f.leases.ListKeys(ctx)
	if err != nil {
		return out
	}
	for k := range keys.Keys() {
		rest, ok := strings.CutPrefix(k, "shard.")
		if !ok {
			continue
		}
		id, err := strconv.Atoi(rest)
		if err != nil {
			continue
		}
		if e, err := f.leases.Get(ctx, k); err == nil {
			out[id] = string(e.Value())
		}
	}
	return out
}

// balance takes free shards (never leased, or whose owner died) and pulls
// shards by handoff from members holding more than their share.
func (f *Fleet) balance(ctx context.Context) {
	f.mu.Lock()
	leaving := f.leaving
	f.mu.Unlock()
	count := f.cfg.Manager.ShardCount()
	if leaving || count == 0 {
		return
	}
	members := f.members(ctx)
	if !slices.Contains(members, f.me) {
		return
	}
	// Even shares: every member ends with lo or hi shards.
	lo, hi := count/len(members), (count+len(members)-1)/len(members)
	owners := f.owners(ctx)
	held := len(f.cfg.Manager.Shards())
	for id := 0; id < count; id++ {
		if _, ok := owners[id]; ok {
			continue
		}
		// Past its share a member still takes an orphan (a shard with a
		// checkpoint: its owner died) rather than leave it deaf; the
		// balance moves it on later.
		if held >= hi && !f.orphan(ctx, id) {
			continue
		}
		if f.claim(ctx, id) {
			held++
		}
	}
	if held >= hi {
		return
	}
	load := map[string][]int{}
	for id, m := range owners {
		if m != f.me {
			load[m] = append(load[m], id)
		}
	}
	// A member below lo takes from those above lo, one below hi only from
	// those above hi, so no shard moves back and forth; a leaving member
	// gives all of its own.
	for m, ids := range load {
		slices.Sort(ids)
		leaving := !slices.Contains(members, m)
		for left := len(ids); left > 0 && held < hi; {
			floor := hi
			switch {
			case leaving:
				floor = 0
			case held < lo:
				floor = lo
			}
			if left <= floor {
				break
			}
			left--
			if f.pull(ctx, m, ids[left]) {
				held++
			}
		}
	}
}

func (f *Fleet) orphan(ctx context.Context, id int) bool {
	e, err := f.ckpts.Get(ctx, leaseKey(id))
	return err == nil && e != nil
}

// claim leases a free shard and resumes it from its checkpoint (or
// identifies it when it has none).
func (f *Fleet) claim(ctx context.Context, id int) bool {
	rev, err := f.leases.Create(ctx, leaseKey(id), []byte(f.me))
	if err != nil {
		return false
	}
	f.mu.Lock()
	f.revs[id] = rev
	f.mu.Unlock()
	var cp checkpoint
	if e, err := f.ckpts.Get(ctx, leaseKey(id)); err == nil {
		json.Unmarshal(e.Value(), &cp)
	}
	skipped, err := f.dedupe(ctx, id, &cp.Session)
	if err != nil {
		f.log.Warn("natsipc: fleet: reading the mark of a free shard; leaving it for a later try", "shard", id, "err", err)
		f.leases.Delete(ctx, leaseKey(id), jetstream.LastRevision(rev))
		return false
	}
	a, err := f.cfg.Manager.Adopt(ctx, id, cp.Session)
	if err != nil {
		f.log.Warn("natsipc: fleet: adopting a free shard", "shard", id, "err", err)
		f.leases.Delete(ctx, leaseKey(id))
		return false
	}
	if f.cfg.Import != nil && cp.State != nil {
		f.cfg.Import(id, cp.State)
	}
	a.Deliver()
	f.log.Info("natsipc: fleet: took a free shard", "shard", id, "from_seq", cp.Session.Seq, "session", cp.Session.Valid(), "skipped", skipped)
	return true
}

// dedupe moves a checkpointed session's seq up to the shard's mark, when
// Marks has one of the same session, and returns how many events that
// skips. A mark of another session (one the dead member started after
// its last checkpoint, whose resume URL nobody saved) cannot be resumed
// and is ignored.
func (f *Fleet) dedupe(ctx context.Context, id int, sess *gateway.Session) (int64, error) {
	if f.cfg.Marks == nil || !sess.Valid() {
		return 0, nil
	}
	mk, err := f.cfg.Marks.Handled(ctx, id)
	if err != nil {
		return 0, err
	}
	if mk.Session != sess.ID {
		if mk.Session != "" {
			f.log.Debug("natsipc: fleet: the mark is of another session than the checkpoint", "shard", id, "mark", mk.Session)
		}
		return 0, nil
	}
	if mk.Seq <= sess.Seq {
		return 0, nil
	}
	skipped := mk.Seq - sess.Seq
	sess.Seq = mk.Seq
	return skipped, nil
}

// pull takes shard id from member m by handoff, then its lease.
func (f *Fleet) pull(ctx context.Context, m string, id int) bool {
	moved, err := handoff.TakeOver(ctx, f.cfg.Node.Cluster(m), f.cfg.Manager, &handoff.Options{Shards: []int{id}, Import: f.cfg.Import, Logger: f.cfg.Logger})
	if err != nil || len(moved) == 0 {
		f.log.Debug("natsipc: fleet: pulling a shard", "shard", id, "from", m, "err", err)
		return false
	}
	rev, err := f.leases.Put(ctx, leaseKey(id), []byte(f.me))
	if err != nil {
		f.log.Warn("natsipc: fleet: taking the lease of a shard moved here", "shard", id, "err", err)
		return true
	}
	f.mu.Lock()
	f.revs[id] = rev
	f.mu.Unlock()
	f.log.Info("natsipc: fleet: took a shard by handoff", "shard", id, "from", m, "deaf", moved[0].Deaf)
	return true
}

// checkpoint saves the sessions of the shards held that moved on.
func (f *Fleet) checkpoint(ctx context.Context) {
	f.mu.Lock()
	f.events = 0
	f.mu.Unlock()
	for _, id := range f.cfg.Manager.Shards() {
		f.checkpointOne(ctx, id)
	}
}

func (f *Fleet) checkpointOne(ctx context.Context, id int) {
	s := f.cfg.Manager.Shard(id)
	if s == nil {
		return
	}
	sess := s.Session()
	f.mu.Lock()
	same := f.saved[id] == sess
	f.mu.Unlock()
	if same || !sess.Valid() {
		return
	}
	if err := f.save(ctx, id, sess); err != nil {
		if ctx.Err() == nil {
			f.log.Warn("natsipc: fleet: checkpoint", "shard", id, "err", err)
		}
		return
	}
	f.mu.Lock()
	f.saved[id] = sess
	f.mu.Unlock()
}

// save writes shard id's checkpoint: sess and the application's state.
func (f *Fleet) save(ctx context.Context, id int, sess gateway.Session) error {
	cp := checkpoint{Session: sess}
	if f.cfg.Export != nil {
		cp.State = f.cfg.Export(id)
	}
	b, _ := json.Marshal(cp)
	_, err := f.ckpts.Put(ctx, leaseKey(id), b)
	return err
}
