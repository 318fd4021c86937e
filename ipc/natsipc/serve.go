package natsipc

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/ipcord/ipcord/ipc"
	"github.com/nats-io/nats.go"
)

// Subjects a serving node subscribes, under the prefix:
//
//	any.<route>              queue group "ipcord": one instance of the route answers
//	cluster.<cluster>.<route> this cluster answers (any route, known or not)
//	all.<route>              every cluster answers (Broadcast)
//
// A route gets its own queue subscription so that a route nobody serves
// has no responders and fails at once; the cluster and broadcast subjects
// are wildcards so that a cluster without the route answers unknown_route,
// as the WebSocket transport does.
const queueGroup = "ipcord"

// reqQueue is the room for requests received but not yet picked up by a
// reader. Readers are added whenever all are busy, so it only fills when
// MaxInFlight handlers are running and requests keep coming faster than
// "overloaded" can be answered; past it NATS drops them (a slow
// consumer) and those callers time out.
const reqQueue = 1 << 14

// Requests arrive on one Go channel shared by every serving subscription
// (NATS's reader goroutine hands a message straight to a parked reader,
// with no goroutine in between), and readers run handlers where they
// receive them: leader/follower, so a call costs one hand-off, as a bare
// nats.go responder does. A reader about to run a handler first makes sure
// another reader is waiting, so a slow handler never holds up the others.

func (n *Node) subscribeServe() error {
	n.reqCh = make(chan *nats.Msg, reqQueue)
	for _, subject := range []string{
		n.prefix + "cluster." + n.cfg.Cluster + ".>",
		n.prefix + "all.>",
	} {
		sub, err := n.nc.ChanSubscribe(subject, n.reqCh)
		if err != nil {
			return fmt.Errorf("natsipc: subscribing %s: %w", subject, err)
		}
		n.mu.Lock()
		n.serveSubs = append(n.serveSubs, sub)
		n.mu.Unlock()
	}
	n.readers.Store(1)
	n.idleReaders.Store(1)
	n.bg.Add(1)
	go n.reader()
	return n.subscribeRoutes()
}

// subscribeRoutes adds a queue subscription for each route of the Router
// that has none yet: routes added while serving are picked up at the next
// heartbeat.
func (n *Node) subscribeRoutes() error {
	for _, route := range n.cfg.Router.Routes() {
		n.mu.Lock()
		_, have := n.routeSubs[route]
		stopped := n.shutting || n.closed
		n.mu.Unlock()
		if have || stopped {
			continue
		}
		sub, err := n.nc.ChanQueueSubscribe(n.prefix+"any."+route, queueGroup, n.reqCh)
		if err != nil {
			return fmt.Errorf("natsipc: subscribing route %q: %w", route, err)
		}
		n.mu.Lock()
		if n.shutting || n.closed {
			n.mu.Unlock()
			sub.Unsubscribe()
			return nil
		}
		n.routeSubs[route] = sub
		n.mu.Unlock()
	}
	return nil
}

// routeOf returns the route a request subject names.
func (n *Node) routeOf(subject string) (string, bool) {
	rest, ok := strings.CutPrefix(subject, n.prefix)
	if !ok {
		return "", false
	}
	for _, p := range []string{"any.", "all.", "cluster." + n.cfg.Cluster + "."} {
		if r, ok := strings.CutPrefix(rest, p); ok {
			return r, true
		}
	}
	return "", false
}

// reader takes requests off the shared channel and serves them.
func (n *Node) reader() {
	defer n.bg.Done()
	for {
		var m *nats.Msg
		select {
		case m = <-n.reqCh:
		case <-n.stop:
			n.readers.Add(-1)
			n.idleReaders.Add(-1)
			return
		}
		if n.idleReaders.Add(-1) == 0 && n.readers.Load() <= int32(n.cfg.MaxInFlight) {
			// Everyone is busy now: someone must keep reading.
			n.readers.Add(1)
			n.idleReaders.Add(1)
			n.bg.Add(1)
			go n.reader()
		}
		n.serve(m)
		if n.idleReaders.Load() >= maxIdleReaders {
			n.readers.Add(-1)
			return
		}
		n.idleReaders.Add(1)
	}
}

// maxIdleReaders bounds the readers kept waiting after a burst.
const maxIdleReaders = 64

// serve answers one request: runs its handler, or answers at once when it
// cannot run.
func (n *Node) serve(m *nats.Msg) {
	if m.Reply == "" {
		return // not a call: nobody to answer
	}
	route, ok := n.routeOf(m.Subject)
	if !ok {
		return
	}
	req, err := decodeRequest(m.Data)
	if err != nil {
		n.respondError(m.Reply, ipc.CodeBadRequest, err.Error())
		return
	}
	h, ok := n.cfg.Router.Lookup(route)
	if !ok {
		n.respondError(m.Reply, ipc.CodeUnknownRoute, fmt.Sprintf("no route %q on cluster %q", route, n.cfg.Cluster))
		return
	}
	if n.stopping.Load() {
		n.respondError(m.Reply, ipc.CodeShuttingDown, "cluster "+n.cfg.Cluster+" is shutting down")
		return
	}
	if n.inflight.Add(1) > int32(n.cfg.MaxInFlight) {
		n.inflight.Add(-1)
		n.respondError(m.Reply, ipc.CodeOverloaded, fmt.Sprintf("more than %d requests in flight", n.cfg.MaxInFlight))
		return
	}
	n.handlers.Add(1)
	n.run(m.Reply, route, req, h)
}

func (n *Node) run(replyTo, route string, r request, h ipc.Handler) {
	defer n.handlers.Done()
	defer n.inflight.Add(-1)
	timeout := n.cfg.CallTimeout
	if r.timeoutMS > 0 {
		timeout = time.Duration(r.timeoutMS) * time.Millisecond
	}
	req := ipc.Request{Route: route, Args: r.args, Meta: r.meta, Peer: r.from}
	if len(req.Args) == 0 {
		req.Args = json.RawMessage("null")
	}
	if r.from != "" && ValidCluster(r.from) {
		req.Caller = n.Cluster(r.from)
	}
	ctx := ipc.NewHandlerContext(req, time.Now().Add(timeout), &n.contexts)
	defer ctx.Cancel()
	data, err := ipc.Serve(ctx, h, ctx.Request(), n.cfg.Hooks, n.log)
	buf := getBuf()
	if err != nil {
		e := ipc.AsError(err)
		*buf = appendFailure((*buf)[:0], n.cfg.Cluster, e.Code, e.Message)
	} else {
		*buf = appendSuccess((*buf)[:0], n.cfg.Cluster, data)
	}
	if err := n.nc.Publish(replyTo, *buf); err != nil {
		n.log.Debug("natsipc: sending a reply", "route", route, "err", err)
	}
	putBuf(buf)
}

func (n *Node) respondError(replyTo, code, message string) {
	buf := getBuf()
	*buf = appendFailure((*buf)[:0], n.cfg.Cluster, code, message)
	if err := n.nc.Publish(replyTo, *buf); err != nil {
		n.log.Debug("natsipc: sending an error reply", "code", code, "err", err)
	}
	putBuf(buf)
}
