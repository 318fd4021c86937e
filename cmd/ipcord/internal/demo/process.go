package demo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ipcord/ipcord/gateway"
	"github.com/ipcord/ipcord/gateway/shard"
	"github.com/ipcord/ipcord/gateway/shard/handoff"
	"github.com/ipcord/ipcord/ipc"
	"github.com/ipcord/ipcord/metrics"
	"github.com/ipcord/ipcord/rest"
)

// ProcessConfig configures RunProcess: the sample bot as a process of its
// own, as `ipcord bot` runs it.
type ProcessConfig struct {
	// REST reaches Discord (or a fake): Get Gateway Bot, messages.
	REST *rest.Client
	// Shards is the shard count; 0 takes Get Gateway Bot's. Ignored with
	// TakeOver, which takes the previous process's.
	Shards int
	// IPCAddr is where the bot's IPC server listens (its routes and the
	// handoff routes); Secret authenticates its clients.
	IPCAddr, Secret string
	// TakeOver, when set, is the IPC URL of the bot process to take every
	// shard from (a deploy): this process resumes them and that one exits.
	TakeOver string
	// Parallel is how many shards move at once in a takeover (default 1).
	Parallel int
	// LendTimeout is how long a shard released to a successor waits for
	// its commit before this process resumes it itself
	// (handoff.DefaultLendTimeout if 0).
	LendTimeout time.Duration
	// IdentifyReserve is the session starts never spent (see
	// shard.ManagerConfig.IdentifyReserve).
	IdentifyReserve int
	// JournalPath, when set, is a file that gets one line per event
	// handled, "shard seq name pid generation session", appended in one
	// write each, so it keeps every event a killed process handled; the
	// processes of a deploy or a fleet may share it.
	JournalPath string
	// Fleet, when set, makes the process a member of a fleet over NATS
	// instead of running every shard (or taking them over) itself.
	Fleet *FleetConfig
	// Out gets a line per milestone (listening, shards moved, exiting).
	Out io.Writer
	// Logger receives the shards' warnings; nil is silent.
	Logger *slog.Logger
	// Metrics and Health, when set, receive the process's metrics (IPC,
	// shards) and its shards' health check; the caller serves them.
	Metrics *metrics.Recorder
	Health  *metrics.Health
}

// Handoff is the per-shard state a deploy carries to the next process.
type Handoff struct {
	Record ShardRecord `json:"record"`
	Guilds []GuildInfo `json:"guilds,omitempty"`
}

// RunProcess runs the sample bot as its own process until ctx ends (its
// shards then close with 4000, so their sessions stay resumable) or,
// after a successor took every shard over, by itself.
func RunProcess(ctx context.Context, cfg ProcessConfig) error {
	if cfg.REST == nil {
		return errors.New("demo: ProcessConfig.REST is required")
	}
	if cfg.Out == nil {
		cfg.Out = io.Discard
	}
	if cfg.Fleet != nil && cfg.TakeOver != "" {
		return errors.New("demo: a fleet member takes its shards from the fleet, not by TakeOver")
	}
	p := &process{cfg: cfg, ledger: newLedger(), pid: os.Getpid(), gen: 1}
	if cfg.JournalPath != "" {
		f, err := os.OpenFile(cfg.JournalPath, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
		if err != nil {
			return err
		}
		defer f.Close()
		p.journal = f
	}
	mcfg := shard.ManagerConfig{REST: cfg.REST, ShardCount: cfg.Shards, IdentifyReserve: cfg.IdentifyReserve}
	var from *ipc.Client
	var lim shard.IdentifyLimiter
	if cfg.Fleet != nil {
		var err error
		if lim, err = p.fleetLimiter(ctx); err != nil {
			return err
		}
		mcfg.Shards = []int{} // the fleet hands them out
	}
	if cfg.TakeOver != "" {
		var err error
		from, mcfg.ShardCount, p.gen, err = p.dialPrevious(ctx)
		if err != nil {
			return err
		}
		defer from.Close()
		mcfg.Shards = []int{} // none until they move here
	}
	mcfg.Shard = shard.Config{
		Gateway:  gateway.Config{Token: cfg.REST.Token, Intents: intents, Logger: cfg.Logger},
		Handler:  p.handle,
		Logger:   cfg.Logger,
		Identify: lim,
	}
	var gathered prometheus.Gatherer
	if cfg.Metrics != nil {
		mcfg.Shard.Handler = cfg.Metrics.ShardHandler(p.handle)
		gathered = cfg.Metrics.Registry()
	}
	m, err := shard.NewManager(mcfg)
	if err != nil {
		return err
	}
	p.m = m
	if cfg.Metrics != nil {
		if err := cfg.Metrics.Shards(m.Status); err != nil {
			return err
		}
	}
	if cfg.Health != nil {
		cfg.Health.Add("shards", metrics.ShardsRunning(m.Status))
	}
	bot, err := NewBot(BotConfig{REST: cfg.REST, Logger: cfg.Logger, Generation: p.gen, PID: p.pid, Metrics: gathered,
		Gateway: func(h EventHandler) (Gateway, error) { p.bot = h; return p, nil }})
	if err != nil {
		return err
	}
	p.b = bot
	src := &handoff.Source{Manager: m, Export: p.export, Logger: cfg.Logger, LendTimeout: cfg.LendTimeout}
	r := bot.Router()
	if err := src.Register(r); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cmpOr(cfg.IPCAddr, "127.0.0.1:0"))
	if err != nil {
		return err
	}
	srv := &ipc.Server{Router: r, Secret: cfg.Secret, Name: "bot-" + strconv.Itoa(p.gen), Logger: cfg.Logger, Hooks: bot.IPCHooks()}
	if cfg.Metrics != nil {
		if err := cfg.Metrics.IPCServer(srv); err != nil {
			ln.Close()
			return err
		}
	}
	if cfg.Fleet != nil {
		if p.member, err = p.join(ctx, r, src); err != nil {
			ln.Close()
			return err
		}
		defer p.member.node.Close()
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
		<-served
	}()
	fmt.Fprintf(cfg.Out, "ipcord bot: generation %d, pid %d, IPC on ws://%s\n", p.gen, p.pid, ln.Addr())

	rctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	defer stop()
	ran := make(chan error, 1)
	go func() { ran <- m.Run(rctx) }()
	if p.member != nil {
		fmt.Fprintf(cfg.Out, "ipcord bot: member %s of fleet %s\n", cfg.Fleet.Member, cfg.Fleet.Name)
		return p.runMember(ctx, rctx, stop, ran)
	}
	if from != nil {
		start := time.Now()
		moved, err := handoff.TakeOver(ctx, from, m, &handoff.Options{Parallel: cfg.Parallel, Import: p.imprt, Logger: cfg.Logger})
		var deaf time.Duration
		for _, mv := range moved {
			deaf = max(deaf, mv.Deaf)
		}
		fmt.Fprintf(cfg.Out, "ipcord bot: took over %d shards in %v (longest deaf %v)\n", len(moved), time.Since(start).Round(time.Millisecond), deaf.Round(time.Microsecond))
		from.Close()
		if errors.Is(err, handoff.ErrHoldLost) {
			// Every shard taken went back: this generation has nothing to run.
			stop()
			<-ran
			return fmt.Errorf("demo: the deploy failed and generation %d keeps every shard: %w", p.gen-1, err)
		}
		if err != nil {
			fmt.Fprintf(cfg.Out, "ipcord bot: some shards stayed with the previous generation: %v\n", err)
		}
	}
	select {
	case <-ctx.Done():
		// A plain stop: the sessions stay resumable for a while.
		cctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		m.Close(cctx, false)
		<-ran
		return nil
	case <-src.Emptied():
		fmt.Fprintf(cfg.Out, "ipcord bot: every shard moved to the next generation; exiting\n")
		stop()
		<-ran
		return nil
	case err := <-ran:
		return err
	}
}

// process is one bot process: its Manager, ledger and bot, and the
// Gateway the bot sees.
type process struct {
	cfg    ProcessConfig
	m      *shard.Manager
	b      *Bot
	bot    EventHandler
	ledger *ledger
	pid    int
	gen    int
	member *member // nil unless a fleet member

	jmu     sync.Mutex
	journal io.Writer
}

// dialPrevious connects to the process to take over and learns its shard
// count and generation.
func (p *process) dialPrevious(ctx context.Context) (*ipc.Client, int, int, error) {
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	c, err := ipc.Dial(dctx, ipc.ClientConfig{URL: p.cfg.TakeOver, Secret: p.cfg.Secret, Identifier: "ipcord-bot-" + strconv.Itoa(p.pid), Logger: p.cfg.Logger})
	if err != nil {
		return nil, 0, 0, fmt.Errorf("demo: connecting to the generation to take over at %s: %w", p.cfg.TakeOver, err)
	}
	offer, err := ipc.CallAs[handoff.Offer](dctx, c, handoff.RouteOffer, nil)
	if err == nil && offer.ShardCount < 1 {
		err = errors.New("it runs no shards yet")
	}
	var st Stats
	if err == nil {
		st, err = ipc.CallAs[Stats](dctx, c, RouteStats, nil)
	}
	if err != nil {
		c.Close()
		return nil, 0, 0, fmt.Errorf("demo: asking %s what to take over: %w", p.cfg.TakeOver, err)
	}
	return c, offer.ShardCount, st.Generation + 1, nil
}

// handle accounts for an event, journals it and gives it to the bot.
func (p *process) handle(ctx context.Context, ev shard.Event) {
	if p.member != nil && !p.member.fleet.Holds(ev.Shard) {
		// The lease is past its fence deadline (this process was starved
		// or cut from NATS): the member that takes the shard over resumes
		// from before this event and handles it.
		return
	}
	e := eventOf(ev)
	p.ledger.observe(e)
	if p.journal != nil {
		line := fmt.Sprintf("%d %d %s %d %d %s\n", ev.Shard, ev.Seq, ev.Name, p.pid, p.gen, cmpOr(ev.Session, "-"))
		p.jmu.Lock()
		io.WriteString(p.journal, line)
		p.jmu.Unlock()
	}
	if p.bot != nil {
		p.bot(ctx, e)
	}
	if p.member != nil {
		p.member.handled(ctx, ev)
	}
}

func (p *process) export(id int) json.RawMessage {
	b, _ := json.Marshal(Handoff{Record: p.ledger.get(id), Guilds: p.b.shardGuilds(id)})
	return b
}

func (p *process) imprt(id int, state json.RawMessage) {
	var h Handoff
	if json.Unmarshal(state, &h) != nil {
		return
	}
	if mk, ok := p.member.skipped(id); ok && mk.Session == h.Record.SessionID && mk.Seq > h.Record.LastSeq {
		// The fleet resumed after the mark, past the checkpoint: the
		// member that died handled the events between.
		h.Record.Handled += mk.Seq - h.Record.LastSeq
		h.Record.LastSeq = mk.Seq
	}
	p.ledger.set(id, h.Record)
	p.b.addGuilds(h.Guilds)
}

// Run implements Gateway; RunProcess runs the Manager itself.
func (p *process) Run(ctx context.Context) error { <-ctx.Done(); return nil }

// Status implements Gateway: the Manager's shards with their records.
func (p *process) Status() []ShardStatus {
	var out []ShardStatus
	now := time.Now()
	for _, s := range p.m.Status() {
		rec := p.ledger.get(s.ID)
		st := shardStatus(s, now)
		st.ShardRecord, st.Generation, st.PID = &rec, p.gen, p.pid
		// The record's counts span every generation, where the shard's
		// own start with this process: they are what a deploy keeps.
		st.Identifies, st.Resumes = rec.Identifies, rec.Resumes
		out = append(out, st)
	}
	return out
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
