package demo

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/ipcord/ipcord/interactions"
	"github.com/ipcord/ipcord/ipc"
)

// Notice is one entry of the bot's error feed: a failure, or a recovery
// from one, as an operator console lists it.
type Notice struct {
	N      int64     `json:"n"` // increasing, so a page shows each once
	At     time.Time `json:"at"`
	Level  string    `json:"level"`  // "error", "recovered" or "action" (a deploy's steps)
	Source string    `json:"source"` // "shard 0", "ipc", "interactions"
	Text   string    `json:"text"`
}

// feed keeps the newest notices.
type feed struct {
	mu    sync.Mutex
	next  int64
	ring  []Notice
	limit int
	// seen is whether a shard has been ready before in a generation (of
	// a deploy): its first READY, or the RESUMED that brings it into a new
	// generation, is no recovery.
	seen map[[2]int]bool
}

func (f *feed) add(at time.Time, level, source, text string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.next++
	n := Notice{N: f.next, At: at.UTC(), Level: level, Source: source, Text: text}
	if len(f.ring) < f.limit {
		f.ring = append(f.ring, n)
		return
	}
	copy(f.ring, f.ring[1:])
	f.ring[len(f.ring)-1] = n
}

func (f *feed) list() []Notice {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Notice{}, f.ring...)
}

// firstReady reports whether this is the shard's first READY or RESUMED
// in generation gen.
func (f *feed) firstReady(shard, gen int) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.seen == nil {
		f.seen = map[[2]int]bool{}
	}
	first := !f.seen[[2]int{shard, gen}]
	f.seen[[2]int{shard, gen}] = true
	return first
}

// noteReady adds a recovery notice when a shard that had been ready is
// ready again, with why its last connection ended.
func (b *Bot) noteReady(ev Event) {
	why, gen := "its connection ended", 0
	if b.gw != nil {
		for _, st := range b.gw.Status() {
			if st.ID != ev.Shard {
				continue
			}
			gen = st.Generation
			if st.LastError != "" {
				why = st.LastError
			}
		}
	}
	if b.feed.firstReady(ev.Shard, gen) {
		return
	}
	what := "resumed its session"
	if ev.Name == "READY" {
		what = "identified a new session"
	}
	b.feed.add(b.cfg.Now(), "recovered", fmt.Sprintf("shard %d", ev.Shard), what+" after: "+why)
}

// IPCHooks are the bot's IPC server hooks: a failed call is a notice.
func (b *Bot) IPCHooks() *ipc.Hooks {
	return &ipc.Hooks{OnError: func(_ context.Context, req *ipc.Request, err error) {
		e := ipc.AsError(err)
		text := fmt.Sprintf("%s from %q: %s", req.Route, req.Peer, e.Code)
		if e.Message != "" {
			text += ": " + e.Message
		}
		b.feed.add(b.cfg.Now(), "error", "ipc", text)
	}}
}

// InteractionError is the endpoint's OnError: a failed listener or
// delivery is a notice.
func (b *Bot) InteractionError(ev *interactions.Event, err error) {
	text := err.Error()
	if name := ev.CommandName(); name != "" {
		text = "/" + name + ": " + text
	}
	b.feed.add(b.cfg.Now(), "error", "interactions", text)
}

// Notices returns the newest notices, oldest first.
func (b *Bot) Notices() []Notice { return b.feed.list() }
