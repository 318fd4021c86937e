package natsipc

import (
	"encoding/json"
	"fmt"
	"github.com/ipcord/ipcord/ipc/internal/transport"
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
// reader. It fills only when requests keep coming faster than even
// "overloaded" can be answered; past it NATS drops them (a slow consumer)
// and those callers time out.
const reqQueue = 1 << 14

func (n *Node) subscribeServe() error {
	n.reqCh = make(chan *nats.Msg, reqQueue)
	// Cancels share the requests' channel, so a cancel is always read after
	// the request it cancels.
	for _, subject := range []string{
		n.prefix + "cluster." + n.cfg.Cluster + ".>",
		n.prefix + "all.>",
		n.cancelSubject,
	} {
		sub, err := n.nc.ChanSubscribe(subject, n.reqCh)
		if err != nil {
			return fmt.Errorf("natsipc: subscribing %s: %w", subject, err)
		}
		n.mu.Lock()
		n.serveSubs = append(n.serveSubs, sub)
		n.mu.Unlock()
	}
	n.startReader()
	n.bg.Add(1)
	go n.watchdog()
	return n.subscribeRoutes()
}

// subscribeRoutes adds a queue subscription for each route of the Router
// that has none yet: routes added while serving are picked up at the next
// heartbeat.
func (n *Node) subscribeRoutes() error {
	for _, route := range n.cfg.Router.Routes() {
		if !transport.ValidName(route) {
			continue // a name only the Python dialects carry: no subject for it
		}
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
	for _, p := range [...]string{"any.", "all.", n.clusterPrefix} {
		if r, ok := strings.CutPrefix(rest, p); ok {
			return r, true
		}
	}
	return "", false
}

// job is a request ready to run.
type job struct {
	replyTo, route string
	req            request
	h              ipc.Handler
}

// serve answers one request on reader r: runs its handler, or answers at
// once when it cannot run.
func (n *Node) serve(r *reader, m *nats.Msg) {
	if m.Reply == "" {
		if m.Subject == n.cancelSubject {
			n.cancelRunning(string(m.Data))
		}
		return // not a call: nobody to answer
	}
	route, ok := n.routeOf(m.Subject)
	if !ok {
		return
	}
	req, err := decodeRequest(m.Data)
	if err != nil {
		n.respondError(m.Reply, nil, ipc.CodeBadRequest, err.Error())
		return
	}
	h, ok := n.cfg.Router.Lookup(route)
	if !ok {
		n.respondError(m.Reply, req.id, ipc.CodeUnknownRoute, fmt.Sprintf("no route %q on cluster %q", route, n.cfg.Cluster))
		return
	}
	if n.stopping.Load() {
		n.respondError(m.Reply, req.id, ipc.CodeShuttingDown, "cluster "+n.cfg.Cluster+" is shutting down")
		return
	}
	if n.inflight.Add(1) > int32(n.cfg.MaxInFlight) {
		n.inflight.Add(-1)
		n.respondError(m.Reply, req.id, ipc.CodeOverloaded, fmt.Sprintf("more than %d requests in flight", n.cfg.MaxInFlight))
		return
	}
	n.handlers.Add(1)
	j := job{replyTo: m.Reply, route: route, req: req, h: h}
	st := n.stats.Get(route)
	start := time.Now()
	if st.Inline() {
		n.runInline(r, st, start, j)
	} else {
		go func() {
			// Timed from here: the wait for a goroutine is not the handler's.
			n.run(st, start, time.Now(), j, nil)
		}()
	}
}

// run runs a request received at start, timing its handler from began
// (unless began is zero), and sends its reply. r is the reader running it
// inline, or nil.
func (n *Node) run(st *transport.RouteStat, start, began time.Time, j job, r *reader) {
	defer n.handlers.Done()
	defer n.inflight.Add(-1)
	timeout := n.cfg.CallTimeout
	if j.req.timeoutMS > 0 {
		timeout = time.Duration(j.req.timeoutMS) * time.Millisecond
	}
	req := ipc.Request{Route: j.route, Args: j.req.args, Meta: j.req.meta, Peer: j.req.from}
	if len(req.Args) == 0 {
		req.Args = json.RawMessage("null")
	}
	if j.req.from != "" && ValidCluster(j.req.from) {
		req.Caller = n.Cluster(j.req.from)
	}
	ctx := transport.NewContext(req, start.Add(timeout), &n.contexts)
	// A cancel for a handler running inline can only be read once the
	// watchdog has handed the channel on, so only then is it registered.
	var key string
	if r != nil {
		r.begin(ctx, &j)
	} else {
		key = callKey(j.replyTo, j.req.id)
		n.running.add(key, ctx)
	}
	rq := ctx.Request()
	data, err := transport.Serve[ipc.Request, ipc.Error](ctx, j.h, rq, rq.Route, rq.Peer, (*transport.Hooks[ipc.Request])(n.cfg.Hooks), n.log, nil)
	var took time.Duration
	if !began.IsZero() {
		took = time.Since(began)
	}
	buf := getBuf()
	if err != nil {
		e := ipc.AsError(err)
		*buf = appendFailure((*buf)[:0], n.cfg.Cluster, j.req.id, false, e.Code, e.Message)
	} else {
		*buf = appendSuccess((*buf)[:0], n.cfg.Cluster, j.req.id, data)
	}
	if err := n.nc.Publish(j.replyTo, *buf); err != nil {
		n.log.Debug("natsipc: sending a reply", "route", j.route, "err", err)
	}
	putBuf(buf)
	// The bookkeeping waits until the reply is on its way.
	if r != nil {
		r.end(n)
	} else {
		n.running.remove(key, ctx)
	}
	ctx.Cancel()
	if took > 0 {
		st.Record(took)
	}
}

// callKey names a call on the serving side: its reply subject, and its id
// when it has one (Broadcasts share a reply subject).
func callKey(replyTo string, id []byte) string {
	if len(id) == 0 {
		return replyTo
	}
	return replyTo + " " + string(id)
}

// cancelRunning cancels the handler of the call named key (see callKey): a
// caller gave up. A handler that already returned has nothing to cancel.
func (n *Node) cancelRunning(key string) {
	if ctx := n.running.get(key); ctx != nil {
		ctx.Cancel()
	}
}

// respondError refuses a request whose handler will not run.
func (n *Node) respondError(replyTo string, id []byte, code, message string) {
	buf := getBuf()
	*buf = appendFailure((*buf)[:0], n.cfg.Cluster, id, true, code, message)
	if err := n.nc.Publish(replyTo, *buf); err != nil {
		n.log.Debug("natsipc: sending an error reply", "code", code, "err", err)
	}
	putBuf(buf)
}
