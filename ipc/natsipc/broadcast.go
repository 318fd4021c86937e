package natsipc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
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
	if !ipc.ValidName(route) {
		return nil, fmt.Errorf("%w: %q", ipc.ErrInvalidName, route)
	}
	a, err := ipc.EncodeArgs(args)
	if err != nil {
		return nil, err
	}
	// Sent before the members are looked up, so the bookkeeping runs while
	// the request travels; a member that joins in between is waited for
	// like one that joined a moment later (see finish).
	var (
		waiting      map[string]bool
		results      map[string]*ipc.Result
		gone         <-chan struct{}
		joined       uint64
		noResponders bool
	)
	sent := func() {
		waiting, gone, joined = n.members.waitSet()
		results = make(map[string]*ipc.Result, len(waiting))
	}
	// finish also waits for members learned since the broadcast began: a
	// node that just joined learns the members from their answers to its
	// ping, which arrive about when the first replies do.
	finish := func() (bool, error) {
		if j := n.members.joined.Load(); j != joined {
			joined = j
			n.members.each(func(c string) {
				if _, done := results[c]; !done && !waiting[c] {
					waiting[c] = true
				}
			})
		}
		return len(waiting) == 0, nil
	}
	err = n.requestMany(ctx, n.prefix+"all."+route, a, 2*n.members.count()+8, sent,
		func() <-chan struct{} { return gone },
		func(m *nats.Msg) (bool, error) {
			if m == nil { // a member went: stop waiting for those now missing
				_, gone = n.members.snapshot()
				for c := range waiting {
					if !n.members.has(c) {
						delete(waiting, c)
						results[c] = &ipc.Result{Client: c, Err: fmt.Errorf("%w: %w: %q", ipc.ErrConnectionLost, ErrMissing, c)}
					}
				}
				return finish()
			}
			if isNoResponders(m) {
				if len(results) > 0 {
					return false, nil // for another Broadcast: someone answered this one
				}
				noResponders = true
				return true, nil // nobody subscribes: nobody to wait for
			}
			r, err := decodeReply(m.Data)
			if err != nil || len(r.cluster) == 0 {
				n.log.Debug("natsipc: ignoring a broadcast reply", "err", err)
				return false, nil
			}
			cluster := string(r.cluster)
			if prev, dup := results[cluster]; dup && prev.Err == nil {
				return false, nil // two processes share a name: first answer wins
			}
			res := &ipc.Result{Client: cluster}
			if r.ok {
				res.Data = json.RawMessage(r.data)
			} else {
				res.Err = &ipc.Error{Code: r.code, Message: r.message}
			}
			results[cluster] = res
			delete(waiting, cluster)
			return finish()
		})
	if len(waiting) == 0 && err != nil && len(results) == 0 {
		return nil, err
	}
	if err != nil && !isCallEnd(err) {
		return nil, err
	}
	for c := range waiting {
		e := err
		switch {
		case noResponders:
			e = fmt.Errorf("%w: %w", &ipc.Error{Code: ipc.CodeUnknownClient, Message: "cluster " + c + " does not subscribe"}, ErrNoResponders)
		case e == nil:
			e = ipc.ErrTimeout
		}
		results[c] = &ipc.Result{Client: c, Err: e}
	}
	out := make([]ipc.Result, 0, len(results))
	for _, r := range results {
		out = append(out, *r)
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
