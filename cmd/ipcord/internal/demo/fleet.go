package demo

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/ipcord/ipcord/gateway/shard"
	"github.com/ipcord/ipcord/gateway/shard/handoff"
	"github.com/ipcord/ipcord/ipc"
	"github.com/ipcord/ipcord/ipc/natsipc"
)

// FleetConfig makes a bot process a member of a fleet over NATS
// (natsipc.Fleet): the members share the bot's shards through leases,
// hand them to each other on a graceful stop, and resume a dead member's
// from its checkpoints.
type FleetConfig struct {
	// Conn is the member's NATS connection (authenticated as NATS does).
	Conn *nats.Conn
	// Prefix is the natsipc subject prefix (default "ipcord").
	Prefix string
	// Name names the fleet; Member names this member in it.
	Name, Member string
	// LeaseTTL and CheckpointInterval are natsipc.FleetConfig's.
	LeaseTTL, CheckpointInterval time.Duration
	// Dedupe makes this member resume a dead member's shards after the
	// last event handled rather than after the checkpoint. The marks are
	// the journal's lines (ProcessConfig.JournalPath, a file every member
	// appends to: no event is repeated), or else KVMarks written after
	// each event (at most one repeat per shard).
	Dedupe bool
}

// member is the fleet side of a bot process.
type member struct {
	node  *natsipc.Node
	fleet *natsipc.Fleet
	kv    *natsipc.KVMarks // the handler marks its events here, when set
	marks *memoMarks
}

// fleetLimiter is the fleet's identify limiter, which also keeps the
// fleet's session start budget.
func (p *process) fleetLimiter(ctx context.Context) (*natsipc.IdentifyLimiter, error) {
	gb, err := p.cfg.REST.GatewayBot(ctx)
	if err != nil {
		return nil, fmt.Errorf("demo: get gateway bot: %w", err)
	}
	fc := p.cfg.Fleet
	return natsipc.NewIdentifyLimiter(ctx, fc.Conn, natsipc.LimiterConfig{
		MaxConcurrency: max(gb.SessionStartLimit.MaxConcurrency, 1),
		Bucket:         "ipcord_identify_" + fc.Name,
		REST:           p.cfg.REST, Reserve: max(p.cfg.IdentifyReserve, 0),
		Logger: p.cfg.Logger,
	})
}

// join makes the process a fleet member serving r over NATS.
func (p *process) join(ctx context.Context, r *ipc.Router, src *handoff.Source) (*member, error) {
	fc := p.cfg.Fleet
	node, err := natsipc.New(fc.Conn, natsipc.Config{Cluster: fc.Member, Router: r, Prefix: fc.Prefix, Logger: p.cfg.Logger})
	if err != nil {
		return nil, err
	}
	mb := &member{node: node}
	cfg := natsipc.FleetConfig{
		Name: fc.Name, Node: node, Manager: p.m, Source: src, Export: p.export, Import: p.imprt,
		LeaseTTL: fc.LeaseTTL, CheckpointInterval: fc.CheckpointInterval, Logger: p.cfg.Logger,
	}
	if fc.Dedupe {
		var inner natsipc.Marks
		if p.cfg.JournalPath != "" {
			inner = journalMarks(p.cfg.JournalPath)
		} else {
			mb.kv, err = natsipc.NewKVMarks(ctx, fc.Conn, fc.Name)
			if err != nil {
				node.Close()
				return nil, err
			}
			inner = mb.kv
		}
		mb.marks = &memoMarks{inner: inner, got: map[int]natsipc.Mark{}}
		cfg.Marks = mb.marks
	}
	mb.fleet, err = natsipc.NewFleet(ctx, cfg)
	if err != nil {
		node.Close()
		return nil, err
	}
	return mb, nil
}

// leaveTimeout bounds a graceful stop: past it the shards nobody took are
// left checkpointed for the next member (natsipc.Fleet.Leave).
const leaveTimeout = 30 * time.Second

// runMember keeps the process in the fleet until ctx ends (SIGTERM), then
// leaves it: the other members take every shard by handoff, and the
// process exits holding nothing.
func (p *process) runMember(ctx, rctx context.Context, stop context.CancelFunc, ran <-chan error) error {
	fctx, cancel := context.WithCancel(rctx)
	fdone := make(chan struct{})
	go func() { defer close(fdone); p.member.fleet.Run(fctx) }()
	defer func() { cancel(); <-fdone }()
	select {
	case <-ctx.Done():
	case err := <-ran:
		return err
	}
	start := time.Now()
	held := len(p.m.Shards())
	lctx, lcancel := context.WithTimeout(context.Background(), leaveTimeout)
	err := p.member.fleet.Leave(lctx)
	lcancel()
	if err != nil {
		fmt.Fprintf(p.cfg.Out, "ipcord bot: left the fleet: %v\n", err)
	} else {
		fmt.Fprintf(p.cfg.Out, "ipcord bot: left the fleet: %d shards handed over in %v\n", held, time.Since(start).Round(time.Millisecond))
	}
	cancel()
	<-fdone
	cctx, ccancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer ccancel()
	p.m.Close(cctx, false)
	stop()
	<-ran
	return nil
}

// handled tells the fleet an event was handled (and marks it, with
// KVMarks).
func (mb *member) handled(ctx context.Context, ev shard.Event) {
	if mb.kv != nil {
		mb.kv.Mark(ctx, ev)
	}
	mb.fleet.Handled()
}

// memoMarks remembers the marks the Fleet read, so the shard's record,
// imported from the checkpoint next, counts the events skipped as handled
// (by the member that died) instead of as a gap.
type memoMarks struct {
	inner natsipc.Marks
	mu    sync.Mutex
	got   map[int]natsipc.Mark
}

func (m *memoMarks) Handled(ctx context.Context, id int) (natsipc.Mark, error) {
	mk, err := m.inner.Handled(ctx, id)
	if err == nil {
		m.mu.Lock()
		m.got[id] = mk
		m.mu.Unlock()
	}
	return mk, err
}

// skipped returns (and forgets) the mark the fleet resumed shard id
// after, if it read one.
func (mb *member) skipped(id int) (natsipc.Mark, bool) {
	if mb == nil || mb.marks == nil {
		return natsipc.Mark{}, false
	}
	return mb.marks.take(id)
}

// take returns and forgets the mark read for shard id.
func (m *memoMarks) take(id int) (natsipc.Mark, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	mk, ok := m.got[id]
	delete(m.got, id)
	return mk, ok
}

// journalMarks reads the marks from a journal every member appends to:
// the bot's "store", where each event's line is its effect and its mark
// at once, so a crash repeats nothing.
type journalMarks string

// Handled implements natsipc.Marks: the last line of shard id. A line cut
// short (being written) is skipped.
func (j journalMarks) Handled(ctx context.Context, id int) (natsipc.Mark, error) {
	f, err := os.Open(string(j))
	if errors.Is(err, os.ErrNotExist) {
		return natsipc.Mark{}, nil
	}
	if err != nil {
		return natsipc.Mark{}, err
	}
	defer f.Close()
	var mk natsipc.Mark
	prefix := strconv.Itoa(id) + " "
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line, ok := strings.CutPrefix(sc.Text(), prefix)
		if !ok {
			continue
		}
		if e, ok := parseJournalLine(id, line); ok {
			mk = natsipc.Mark{Session: e.Session, Seq: e.Seq}
		}
	}
	return mk, sc.Err()
}

// parseJournalLine reads one journal line after its shard: "seq name pid
// generation session".
func parseJournalLine(id int, rest string) (shard.Event, bool) {
	f := strings.Fields(rest)
	if len(f) != 5 {
		return shard.Event{}, false
	}
	seq, err := strconv.ParseInt(f[0], 10, 64)
	if err != nil || seq < 0 {
		return shard.Event{}, false
	}
	return shard.Event{Shard: id, Seq: seq, Name: f[1], Session: f[4]}, true
}
