package demo

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"time"

	"github.com/ipcord/ipcord/gateway/shard"
	"github.com/ipcord/ipcord/gateway/shard/handoff"
	"github.com/ipcord/ipcord/ipc"
)

// The demo's "deploy a new version": the next generation of the bot's
// shards takes each shard from the running one by handoff (package
// gateway/shard/handoff) over an authenticated IPC connection, exactly as
// `ipcord bot --take-over` does between processes, and the running
// generation stops once it holds nothing.

// RouteDeploy starts a deploy; its progress is in the stats route's
// "deploy".
const RouteDeploy = "deploy"

// CodeDeploying answers a deploy asked for while one is under way.
const CodeDeploying = "deploy_in_progress"

// deployPace is the pause between two shards of a deploy: a move takes
// milliseconds, too fast to watch on the console.
const deployPace = time.Second

// DeployStatus is the last deploy, as the stats route reports it.
type DeployStatus struct {
	// Generation is the generation deployed; From the one it replaces.
	Generation int `json:"generation"`
	From       int `json:"from"`
	// Shards is how many shards move; Moved how many did so far.
	Shards int  `json:"shards"`
	Moved  int  `json:"moved"`
	Done   bool `json:"done"`
	// LongestDeafMS is the longest time one shard's events waited for a
	// handler during its move.
	LongestDeafMS float64 `json:"longest_deaf_ms"`
	// Lost, Repeated and Identifies count, over every shard since the
	// deploy began, the seqs skipped, the events handled twice and the
	// sessions started: all three stay 0.
	Lost       int64 `json:"lost"`
	Repeated   int64 `json:"repeated"`
	Identifies int   `json:"identifies"`
	// TookMS is the deploy's duration so far (pauses between shards
	// included).
	TookMS float64 `json:"took_ms"`
	Error  string  `json:"error,omitempty"`

	start time.Time
	base  ShardRecord // the records' totals when the deploy began
}

// deployer is a Gateway that deploys new generations of its shards.
type deployer interface {
	// Deploy starts the next generation, which takes every shard; note
	// gets a line per step. It returns the generation's number.
	Deploy(note func(string)) (int, error)
	// DeployStatus is the last deploy, nil before the first.
	DeployStatus() *DeployStatus
}

// generation is one generation of the bot's shards.
type generation struct {
	n      int
	m      *shard.Manager
	cancel context.CancelFunc
	done   chan struct{} // closed when m.Run returned, with its error in err
	err    error
	srv    *ipc.Server // serves m's shards to the next generation, once asked
	src    *handoff.Source
	// retired is set (under the gateway's mu) when a deploy stops the
	// generation, which then holds nothing.
	retired bool
}

// Deploy implements deployer.
func (g *shardGateway) Deploy(note func(string)) (int, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.ctx == nil || len(g.gens) == 0 {
		return 0, &ipc.Error{Code: CodeDeploying, Message: "the shards are not running yet"}
	}
	if g.deploy != nil && !g.deploy.Done {
		return 0, &ipc.Error{Code: CodeDeploying, Message: fmt.Sprintf("generation %d is being deployed", g.deploy.Generation)}
	}
	old := g.gens[len(g.gens)-1]
	st := &DeployStatus{Generation: old.n + 1, From: old.n, Shards: len(old.m.Shards()), start: time.Now(), base: g.ledger.total()}
	g.deploy = st
	g.deploying.Add(1)
	go func() {
		defer g.deploying.Done()
		g.run(g.ctx, old, st, note)
	}()
	return st.Generation, nil
}

// DeployStatus implements deployer.
func (g *shardGateway) DeployStatus() *DeployStatus {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.deploy == nil {
		return nil
	}
	st := *g.deploy
	if !st.Done {
		st.TookMS = ms(time.Since(st.start))
	}
	now := g.ledger.total()
	st.Lost, st.Repeated, st.Identifies = now.Gaps-st.base.Gaps, now.Repeats-st.base.Repeats, now.Identifies-st.base.Identifies
	return &st
}

// run moves every shard of old to a new generation, one at a time.
func (g *shardGateway) run(ctx context.Context, old *generation, st *DeployStatus, note func(string)) {
	fail := func(err error) {
		g.mu.Lock()
		st.Error, st.Done, st.TookMS = err.Error(), true, ms(time.Since(st.start))
		g.mu.Unlock()
		note(fmt.Sprintf("generation %d failed: %v", st.Generation, err))
	}
	url, secret, err := g.serveHandoff(old)
	if err != nil {
		fail(err)
		return
	}
	m, err := g.newManager(old.m.ShardCount(), []int{})
	if err != nil {
		fail(err)
		return
	}
	next := g.start(ctx, st.Generation, m)
	c, err := ipc.Dial(ctx, ipc.ClientConfig{URL: url, Secret: secret, Identifier: fmt.Sprintf("generation-%d", st.Generation)})
	if err != nil {
		fail(err)
		return
	}
	defer c.Close()
	note(fmt.Sprintf("generation %d started; taking %d shards from generation %d", st.Generation, st.Shards, st.From))
	for i, id := range old.m.Shards() {
		if i > 0 {
			select {
			case <-ctx.Done():
				return
			case <-time.After(g.pace):
			}
		}
		moved, err := handoff.TakeOver(ctx, c, next.m, &handoff.Options{Shards: []int{id}, Import: g.imprt})
		if err != nil || len(moved) == 0 {
			note(fmt.Sprintf("shard %d stays with generation %d: %v", id, st.From, err))
			continue
		}
		g.mu.Lock()
		st.Moved++
		st.LongestDeafMS = max(st.LongestDeafMS, ms(moved[0].Deaf))
		g.mu.Unlock()
		note(fmt.Sprintf("shard %d moved to generation %d, resumed from seq %d, deaf %.1f ms", id, st.Generation, moved[0].Seq, ms(moved[0].Deaf)))
	}
	select {
	case <-old.src.Emptied():
		g.retire(old)
	case <-ctx.Done():
		return
	case <-time.After(5 * time.Second):
		fail(fmt.Errorf("generation %d still holds shards %v", old.n, old.m.Shards()))
		return
	}
	g.mu.Lock()
	st.Done, st.TookMS = true, ms(time.Since(st.start))
	g.mu.Unlock()
	d := g.DeployStatus()
	note(fmt.Sprintf("generation %d runs all %d shards: %d lost, %d repeated, %d IDENTIFY", d.Generation, d.Moved, d.Lost, d.Repeated, d.Identifies))
}

// serveHandoff serves old's shards to the next generation: the handoff
// routes on an IPC server of their own, behind a fresh secret.
func (g *shardGateway) serveHandoff(old *generation) (url, secret string, err error) {
	var b [16]byte
	rand.Read(b[:])
	secret = hex.EncodeToString(b[:])
	src := &handoff.Source{Manager: old.m, Export: g.export, Logger: g.cfg.Logger}
	r := ipc.NewRouter()
	if err := src.Register(r); err != nil {
		return "", "", err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", "", err
	}
	srv := &ipc.Server{Router: r, Secret: secret, Name: fmt.Sprintf("generation-%d", old.n), Logger: g.cfg.Logger}
	go srv.Serve(ln)
	g.mu.Lock()
	old.srv, old.src = srv, src
	g.mu.Unlock()
	return "ws://" + ln.Addr().String(), secret, nil
}

// start runs m as generation n beside the others.
func (g *shardGateway) start(ctx context.Context, n int, m *shard.Manager) *generation {
	gctx, cancel := context.WithCancel(ctx)
	gen := &generation{n: n, m: m, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(gen.done)
		gen.err = m.Run(gctx)
	}()
	g.mu.Lock()
	g.gens = append(g.gens, gen)
	g.mu.Unlock()
	return gen
}

// retire stops a generation that holds nothing any more.
func (g *shardGateway) retire(gen *generation) {
	g.mu.Lock()
	gen.retired = true
	for i, x := range g.gens {
		if x == gen {
			g.gens = append(g.gens[:i:i], g.gens[i+1:]...)
			break
		}
	}
	g.mu.Unlock()
	gen.stop()
}

// stop ends the generation's Manager and handoff server.
func (gen *generation) stop() {
	gen.cancel()
	<-gen.done
	if gen.srv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		gen.srv.Shutdown(ctx)
	}
}

// stopAll stops every generation (Run's end), after the deploy under
// way gave up.
func (g *shardGateway) stopAll() {
	g.deploying.Wait()
	g.mu.Lock()
	gens := g.gens
	g.gens = nil
	g.mu.Unlock()
	for _, gen := range gens {
		gen.stop()
	}
}

// export and imprt carry a shard's record with it, as between processes.
func (g *shardGateway) export(id int) json.RawMessage {
	b, _ := json.Marshal(g.ledger.get(id))
	return b
}

func (g *shardGateway) imprt(id int, state json.RawMessage) {
	var r ShardRecord
	if json.Unmarshal(state, &r) == nil {
		g.ledger.set(id, r)
	}
}
