package natsipc

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
)

// Membership runs on plain NATS subjects, no JetStream: a serving node
// publishes a heartbeat on <prefix>.presence every Config.Heartbeat and a
// leave message when it shuts down, and answers <prefix>.presence.ping
// with a heartbeat at once so a node that just joined learns the members
// within a round trip. Each heartbeat carries its sender's own interval, so
// nodes configured differently still judge each other's liveness right.

// heartbeat is the body of a presence message.
type heartbeat struct {
	Cluster    string `json:"cluster"`
	Instance   string `json:"instance"`
	IntervalMS int64  `json:"interval_ms"`
	Leave      bool   `json:"leave,omitempty"`
}

func decodeHeartbeat(b []byte) (heartbeat, error) {
	var h heartbeat
	if err := json.Unmarshal(b, &h); err != nil {
		return h, fmt.Errorf("%w: presence: %v", ErrMalformed, err)
	}
	if !ValidCluster(h.Cluster) {
		return h, fmt.Errorf("%w: presence: cluster %q", ErrMalformed, h.Cluster)
	}
	if h.IntervalMS <= 0 || h.IntervalMS > maxTimeoutMS {
		return h, fmt.Errorf("%w: presence: interval %d ms", ErrMalformed, h.IntervalMS)
	}
	return h, nil
}

type member struct {
	instance string
	deadline time.Time // when it counts as gone unless heard from again
}

// members is what a node knows of the serving clusters.
type members struct {
	mu     sync.Mutex
	m      map[string]member
	gone   chan struct{} // closed (and replaced) when a member goes
	misses int
	subs   []*nats.Subscription
	now    func() time.Time
	kick   chan struct{} // a new member arrived: recompute the next expiry
	joined atomic.Uint64 // counts members' arrivals, so a Broadcast sees new ones cheaply
}

func (ms *members) init() {
	ms.m = make(map[string]member)
	ms.gone = make(chan struct{})
	ms.now = time.Now
	ms.kick = make(chan struct{}, 1)
}

// seen records a heartbeat, or removes a member that left.
func (ms *members) seen(h heartbeat) {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	if h.Leave {
		if cur, ok := ms.m[h.Cluster]; ok && cur.instance == h.Instance {
			delete(ms.m, h.Cluster)
			ms.signalLocked()
		}
		return
	}
	d := time.Duration(h.IntervalMS) * time.Millisecond * time.Duration(ms.misses)
	_, known := ms.m[h.Cluster]
	ms.m[h.Cluster] = member{instance: h.Instance, deadline: ms.now().Add(d)}
	if !known {
		ms.joined.Add(1)
		select {
		case ms.kick <- struct{}{}:
		default:
		}
	}
}

// expire removes the members not heard from in time and returns when the
// next one would expire (zero with no members), so a dead member is
// noticed on its own schedule rather than on the observer's heartbeat.
func (ms *members) expire(now time.Time) (next time.Time) {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	changed := false
	for name, m := range ms.m {
		if now.After(m.deadline) {
			delete(ms.m, name)
			changed = true
		} else if next.IsZero() || m.deadline.Before(next) {
			next = m.deadline
		}
	}
	if changed {
		ms.signalLocked()
	}
	return next
}

func (ms *members) signalLocked() {
	close(ms.gone)
	ms.gone = make(chan struct{})
}

// names returns the live members, sorted.
func (ms *members) names() []string {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	return slices.Sorted(maps.Keys(ms.m))
}

// live returns the live members in no order (a Broadcast sorts its
// results anyway), the channel that closes when one of them goes, and the
// count of arrivals so far (see joined).
func (ms *members) live() ([]string, <-chan struct{}, uint64) {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	return slices.Collect(maps.Keys(ms.m)), ms.gone, ms.joined.Load()
}

// goneChan returns the channel that closes when a live member goes.
func (ms *members) goneChan() <-chan struct{} {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	return ms.gone
}

// count returns the number of live members.
func (ms *members) count() int {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	return len(ms.m)
}

func (ms *members) has(name string) bool {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	_, ok := ms.m[name]
	return ok
}

func (ms *members) unsubscribe() {
	ms.mu.Lock()
	subs := ms.subs
	ms.subs = nil
	ms.mu.Unlock()
	for _, s := range subs {
		s.Unsubscribe()
	}
}

// Members returns the clusters this node currently knows to be alive,
// sorted: those whose heartbeats arrive in time.
func (n *Node) Members() []string { return n.members.names() }

func (n *Node) subscribePresence() error {
	n.members.misses = n.cfg.HeartbeatMisses
	sub, err := n.nc.Subscribe(n.prefix+"presence", func(m *nats.Msg) {
		h, err := decodeHeartbeat(m.Data)
		if err != nil {
			n.log.Debug("natsipc: ignoring a presence message", "err", err)
			return
		}
		n.members.seen(h)
	})
	if err != nil {
		return fmt.Errorf("natsipc: subscribing presence: %w", err)
	}
	n.members.subs = append(n.members.subs, sub)
	if n.cfg.Router == nil {
		return nil
	}
	sub, err = n.nc.Subscribe(n.prefix+"presence.ping", func(*nats.Msg) {
		if !n.isShutting() {
			n.publishPresence(false)
		}
	})
	if err != nil {
		return fmt.Errorf("natsipc: subscribing presence pings: %w", err)
	}
	n.members.subs = append(n.members.subs, sub)
	return nil
}

func (n *Node) publishPresence(leave bool) {
	b, _ := json.Marshal(heartbeat{
		Cluster:    n.cfg.Cluster,
		Instance:   n.inbox,
		IntervalMS: max(n.cfg.Heartbeat.Milliseconds(), 1),
		Leave:      leave,
	})
	if err := n.nc.Publish(n.prefix+"presence", b); err != nil {
		n.log.Debug("natsipc: publishing presence", "err", err)
	}
}

// ping asks every serving node to announce itself now.
func (n *Node) ping() {
	if err := n.nc.Publish(n.prefix+"presence.ping", nil); err != nil {
		n.log.Debug("natsipc: publishing a presence ping", "err", err)
	}
}

// Discover asks the serving clusters to announce themselves and returns
// the members once no new one has appeared for settle (100 ms if zero),
// or when ctx ends. A node learns members from their heartbeats, and a
// Broadcast waits only for members it knows, so a node that has just
// joined calls Discover before its first Broadcast.
func (n *Node) Discover(ctx context.Context, settle time.Duration) []string {
	if settle <= 0 {
		settle = 100 * time.Millisecond
	}
	n.ping()
	t := time.NewTicker(settle / 10)
	defer t.Stop()
	last, since := -1, time.Now()
	for {
		names := n.members.names()
		if len(names) != last {
			last, since = len(names), time.Now()
		} else if time.Since(since) >= settle {
			return names
		}
		select {
		case <-ctx.Done():
			return names
		case <-t.C:
		}
	}
}
