package natsipc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/ipcord/ipcord/ipc/internal/transport"
	"slices"
	"strings"

	"github.com/ipcord/ipcord/ipc"
	"github.com/nats-io/nats.go"
)

// Broadcast calls route on every cluster at once and returns one
// ipc.Result per cluster (Result.Client is the cluster's name), sorted by
// name. It gathers replies until every member known when it began has
// answered — it never waits out the deadline once they all have — or ctx
// (or CallTimeout) ends. A member that answers nothing in time gets a
// timeout error in its Result; a member that stops heartbeating (or
// leaves) meanwhile gets ipc.ErrConnectionLost wrapping ErrMissing, as soon
// as that is noticed, rather than holding the broadcast up. Replies from
// clusters that joined meanwhile are included too; one that joins in the
// instant after the request went out is waited for in vain, and reported
// as timed out. With no cluster
// serving at all it returns at once with no results.
//
// A node that has just joined should call Discover first: members it has
// not heard from yet are not waited for.
//
// A failure of the broadcast as a whole (bad args, no connection until the
// deadline, Close) is returned as the error with no results.
func (n *Node) Broadcast(ctx context.Context, route string, args any) ([]ipc.Result, error) {
	route = trimSlash(route)
	if !transport.ValidName(route) {
		return nil, fmt.Errorf("%w: %q", ipc.ErrInvalidName, route)
	}
	a, err := transport.EncodeArgs[ipc.Error](args)
	if err != nil {
		return nil, err
	}
	g := gather{n: n}
	// The members are looked up once the request is sent, while it
	// travels; a member that joins in between is waited for like one that
	// joins a moment later (see learn).
	err = n.requestMany(ctx, n.prefix+"all."+route, a, 2*n.members.count()+8, g.start,
		func() <-chan struct{} { return g.gone }, g.onMsg)
	return g.finish(err)
}

// gather is the bookkeeping of one Broadcast: a slot per cluster it waits
// for or heard from.
type gather struct {
	n            *Node
	slots        []slot
	index        map[string]int // slot by name, once there are too many to scan
	waiting      int            // slots not done
	gone         <-chan struct{}
	joined       uint64
	noResponders bool
}

type slot struct {
	ipc.Result
	done bool
}

// scanMax is the slot count up to which a linear scan beats a map.
const scanMax = 16

func (g *gather) start() {
	var names []string
	names, g.gone, g.joined = g.n.members.live()
	g.slots = make([]slot, len(names), len(names)+2)
	for i, name := range names {
		g.slots[i].Client = name
	}
	g.waiting = len(names)
	if len(g.slots) > scanMax {
		g.index = make(map[string]int, len(g.slots))
		for i := range g.slots {
			g.index[g.slots[i].Client] = i
		}
	}
}

// find returns the slot of the named cluster, or -1.
func (g *gather) find(name []byte) int {
	if g.index != nil {
		if i, ok := g.index[string(name)]; ok {
			return i
		}
		return -1
	}
	for i := range g.slots {
		if g.slots[i].Client == string(name) {
			return i
		}
	}
	return -1
}

// add adds a slot for name and returns it.
func (g *gather) add(name string) int {
	g.slots = append(g.slots, slot{Result: ipc.Result{Client: name}})
	g.waiting++
	i := len(g.slots) - 1
	switch {
	case g.index != nil:
		g.index[name] = i
	case len(g.slots) > scanMax:
		g.index = make(map[string]int, len(g.slots))
		for j := range g.slots {
			g.index[g.slots[j].Client] = j
		}
	}
	return i
}

// onMsg takes one reply, or a member's departure (m nil), and reports
// whether the Broadcast is complete.
func (g *gather) onMsg(m *nats.Msg) (bool, error) {
	if m == nil { // a member went: stop waiting for those now missing
		g.gone = g.n.members.goneChan()
		for i := range g.slots {
			if s := &g.slots[i]; !s.done && !g.n.members.has(s.Client) {
				s.done, s.Err = true, fmt.Errorf("%w: %w: %q", ipc.ErrConnectionLost, ErrMissing, s.Client)
				g.waiting--
			}
		}
		return g.learn(), nil
	}
	if isNoResponders(m) {
		if g.waiting < len(g.slots) {
			return false, nil // for another Broadcast: someone answered this one
		}
		g.noResponders = true
		return true, nil // nobody subscribes: nobody to wait for
	}
	r, err := decodeReply(m.Data)
	if err != nil || len(r.cluster) == 0 {
		g.n.log.Debug("natsipc: ignoring a broadcast reply", "err", err)
		return false, nil
	}
	i := g.find(r.cluster)
	if i < 0 {
		i = g.add(string(r.cluster)) // a cluster it did not know of
	}
	s := &g.slots[i]
	if s.done && s.Err == nil {
		return false, nil // two processes share a name: first answer wins
	}
	if !s.done {
		g.waiting--
	}
	s.done = true
	if r.ok {
		s.Data, s.Err = json.RawMessage(r.data), nil
	} else {
		s.Data, s.Err = nil, &ipc.Error{Code: r.code, Message: r.message}
	}
	return g.learn(), nil
}

// learn adds slots for members that arrived since the Broadcast began —
// a node that just joined learns the members from their answers to its
// ping, which arrive about when the first replies do — and reports whether
// nothing is left to wait for.
func (g *gather) learn() bool {
	if j := g.n.members.joined.Load(); j != g.joined {
		g.joined = j
		for _, name := range g.n.Members() {
			if g.find([]byte(name)) < 0 {
				g.add(name)
			}
		}
	}
	return g.waiting == 0
}

// finish turns the slots into results once the gathering ended with err.
func (g *gather) finish(err error) ([]ipc.Result, error) {
	if len(g.slots) == 0 && err != nil {
		return nil, err
	}
	if err != nil && !isCallEnd(err) {
		return nil, err
	}
	out := make([]ipc.Result, len(g.slots))
	for i := range g.slots {
		s := &g.slots[i]
		if !s.done {
			switch {
			case g.noResponders:
				s.Err = fmt.Errorf("%w: %w", &ipc.Error{Code: ipc.CodeUnknownClient, Message: "cluster " + s.Client + " does not subscribe"}, ErrNoResponders)
			case err != nil:
				s.Err = err
			default:
				s.Err = ipc.ErrTimeout
			}
		}
		out[i] = s.Result
	}
	slices.SortFunc(out, func(a, b ipc.Result) int { return strings.Compare(a.Client, b.Client) })
	return out, nil
}

// isCallEnd reports whether err ended the gathering itself (deadline,
// cancellation, lost connection) rather than the broadcast's start.
func isCallEnd(err error) bool {
	return errors.Is(err, ipc.ErrTimeout) && !errors.Is(err, ipc.ErrNotConnected) ||
		errors.Is(err, ipc.ErrCanceled) && !errors.Is(err, ipc.ErrNotConnected) ||
		errors.Is(err, ipc.ErrConnectionLost)
}
