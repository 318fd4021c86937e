package natsipc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/ipcord/ipcord/ipc/internal/transport"
	"strconv"
	"sync"
	"time"

	gojson "github.com/goccy/go-json"

	"github.com/ipcord/ipcord/ipc"
	"github.com/nats-io/nats.go"
)

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// A call's reply channel and its timer, when ctx has no deadline, are
// pooled: each would otherwise be an allocation per call.
var (
	replyPool = sync.Pool{New: func() any { return make(chan *nats.Msg, 1) }}
	timerPool = sync.Pool{New: func() any {
		t := time.NewTimer(time.Hour)
		t.Stop()
		return t
	}}
)

func getBuf() *[]byte { return bufPool.Get().(*[]byte) }

func putBuf(b *[]byte) {
	if cap(*b) <= 64<<10 {
		bufPool.Put(b)
	}
}

// Call calls route on any one instance that serves it (NATS picks one of
// the route's queue group), so a call survives the restart of any single
// cluster: an instance that refuses it because it is shutting down (the
// handler never ran) is skipped, and the call sent again, up to
// shutdownRetries times. A route nobody serves fails at once with
// ipc.ErrUnknownRoute (wrapping ErrNoResponders). Otherwise errors are
// those of ipc.Caller.
func (n *Node) Call(ctx context.Context, route string, args, out any) error {
	return n.call(ctx, n.prefix+"any.", route, args, out, ipc.CodeUnknownRoute)
}

// Cluster returns a Caller whose calls go to the named cluster. A cluster
// that is not connected fails a call at once with ipc.ErrUnknownClient
// (wrapping ErrNoResponders).
func (n *Node) Cluster(name string) ipc.Caller { return clusterCaller{n, name} }

type clusterCaller struct {
	n    *Node
	name string
}

func (c clusterCaller) Call(ctx context.Context, route string, args, out any) error {
	if !ValidCluster(c.name) {
		return fmt.Errorf("%w: %q", ErrInvalidCluster, c.name)
	}
	return c.n.call(ctx, c.n.prefix+"cluster."+c.name+".", route, args, out, ipc.CodeUnknownClient)
}

func (n *Node) call(ctx context.Context, subjectPrefix, route string, args, out any, noResponders string) error {
	route = trimSlash(route)
	if !transport.ValidName(route) {
		return fmt.Errorf("%w: %q", ipc.ErrInvalidName, route)
	}
	a, err := transport.EncodeArgs[ipc.Error](args)
	if err != nil {
		return err
	}
	var (
		data    []byte
		leaving bool // refused by an instance that is shutting down
	)
	onMsg := func(m *nats.Msg) (bool, error) {
		if isNoResponders(m) {
			return true, fmt.Errorf("%w: %w for %s%s", &ipc.Error{Code: noResponders, Message: "no responders for " + route}, ErrNoResponders, subjectPrefix, route)
		}
		r, err := decodeReply(m.Data)
		if err != nil {
			return true, err
		}
		if !r.ok {
			leaving = r.refused && r.code == ipc.CodeShuttingDown
			return true, &ipc.Error{Code: r.code, Message: r.message}
		}
		data = r.data
		return true, nil
	}
	// Only a call to any instance can go elsewhere: a named cluster that
	// is shutting down is the one asked for.
	retries := 0
	if subjectPrefix == n.prefix+"any." {
		retries = shutdownRetries
	}
	for {
		leaving = false
		err = n.request(ctx, subjectPrefix+route, a, onMsg)
		if !leaving || retries == 0 || ctx.Err() != nil {
			break
		}
		retries--
	}
	if err != nil || out == nil {
		return err
	}
	if raw, ok := out.(*json.RawMessage); ok {
		*raw = data
		return nil
	}
	if len(data) == 0 {
		data = []byte("null")
	}
	if err := gojson.Unmarshal(data, out); err != nil {
		return fmt.Errorf("natsipc: decoding the result of %q into %T: %w", route, out, err)
	}
	return nil
}

// shutdownRetries is how many times Call sends a request again after an
// instance refused it while shutting down. An instance that shuts down
// leaves the queue group at once, so one retry nearly always reaches
// another; the rest cover several leaving together.
const shutdownRetries = 3

// request publishes one request and hands each reply to onMsg until it
// reports done; it fails with the context, the default timeout, a lost
// connection, or Close, whichever comes first. While the connection is
// down it waits for it (the request is not sent), failing with
// ipc.ErrNotConnected if the deadline passes first.
func (n *Node) request(ctx context.Context, subject string, args []byte, onMsg func(*nats.Msg) (bool, error)) error {
	return n.requestMany(ctx, subject, args, 0, nil, nil, onMsg)
}

// requestMany is request for a Broadcast when room > 0: room replies at
// most, told apart by the id in their envelopes. sent (may be nil) runs
// once the request is on its way, so work that can wait for the replies
// is off the critical path; wake (may be nil) returns a channel that wakes
// the caller to call onMsg(nil).
func (n *Node) requestMany(ctx context.Context, subject string, args []byte, room int, sent func(), wake func() <-chan struct{}, onMsg func(*nats.Msg) (bool, error)) error {
	// The clock is read once at most: with a deadline in ctx, for the
	// time left; without one, not at all unless the connection is down.
	var (
		expired <-chan time.Time
		timer   *time.Timer
		timeout time.Duration // what the envelope tells the handler
	)
	deadline, ok := ctx.Deadline()
	if ok {
		timeout = time.Until(deadline)
	} else {
		// A pooled timer is cheaper than a derived context per call. It is
		// armed when the request is sent, or when a wait for the
		// connection begins.
		timer = timerPool.Get().(*time.Timer)
		defer func() { timer.Stop(); timerPool.Put(timer) }()
		expired = timer.C
		timeout = n.cfg.CallTimeout
	}
	lost, timeout, err := n.waitConnected(ctx, timer, timeout)
	if err != nil {
		return err
	}
	n.pmu.Lock()
	token := n.nextToken
	n.nextToken++
	var (
		ch      chan *nats.Msg
		replyTo string   // where the replies go
		id      []byte   // the request's id, for a Broadcast
		idBuf   [13]byte // room for any uint64 in base 36
	)
	if room == 0 {
		ch = replyPool.Get().(chan *nats.Msg)
		n.pending[token] = ch
		n.pmu.Unlock()
		replyTo = n.inbox + strconv.FormatUint(token, 36)
		defer func() {
			n.pmu.Lock()
			delete(n.pending, token)
			n.pmu.Unlock()
			// deliver sends under n.pmu, so nothing can arrive now: drain
			// a reply that came too late and reuse the channel.
			select {
			case <-ch:
			default:
			}
			replyPool.Put(ch)
		}()
	} else {
		// A Broadcast replies to the node's one broadcast subject, with its
		// id in the envelope: a reply subject of its own would cost the
		// NATS server a subscription-cache miss per reply (7% of a
		// Broadcast's time).
		ch = make(chan *nats.Msg, room)
		n.bpending[token] = ch
		n.pmu.Unlock()
		replyTo = n.bcastInbox
		id = strconv.AppendUint(idBuf[:0], token, 36)
		defer func() {
			n.pmu.Lock()
			delete(n.bpending, token)
			n.pmu.Unlock()
		}()
	}

	buf := getBuf()
	body, err := appendRequest((*buf)[:0], max(timeout.Milliseconds(), 1), n.cfg.Cluster, id, ipc.MetaFrom(ctx), args)
	if err == nil {
		err = n.nc.PublishRequest(subject, replyTo, body)
		*buf = body
	}
	putBuf(buf)
	if err != nil {
		return fmt.Errorf("%w: %w", ipc.ErrNotConnected, err)
	}
	if timer != nil {
		timer.Reset(timeout)
	}
	if sent != nil {
		sent()
	}

	var shared <-chan *nats.Msg
	if room > 0 {
		shared = n.bcastCh
	}
	var wakeCh <-chan struct{}
	for {
		if wake != nil {
			wakeCh = wake()
		}
		select {
		case m := <-ch:
			if done, err := onMsg(m); done {
				return err
			}
			continue
		case m := <-shared:
			// Broadcast replies reach whichever Broadcast is waiting, with
			// no goroutine in between; one for another is passed on.
			if isNoResponders(m) || replyToken(m) != token {
				n.onBroadcastReply(m)
				continue
			}
			if done, err := onMsg(m); done {
				return err
			}
			continue
		case <-wakeCh:
			if done, err := onMsg(nil); done {
				return err
			}
			continue
		case <-ctx.Done():
			if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
				n.cancel(callKey(replyTo, id)) // at the deadline the handler's context ends by itself
			}
			return transport.ContextError[ipc.Error](ctx)
		case <-expired:
			return fmt.Errorf("%w: no reply within %v", ipc.ErrTimeout, n.cfg.CallTimeout)
		case <-lost:
			return fmt.Errorf("%w: the NATS connection dropped", ipc.ErrConnectionLost)
		case <-n.stop:
			n.cancel(callKey(replyTo, id))
			return ipc.ErrClosed
		}
	}
}

// waitConnected waits until the connection is up (or the node closed) and
// returns the channel that closes when it drops next, and what is left of
// timeout after the wait. Without a deadline in ctx, timer ends the wait.
func (n *Node) waitConnected(ctx context.Context, timer *time.Timer, timeout time.Duration) (lost <-chan struct{}, left time.Duration, err error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.connected && !n.closed {
		return n.lostCh, timeout, nil // the common case reads no clock
	}
	deadline := time.Now().Add(timeout)
	var expired <-chan time.Time
	if timer != nil {
		timer.Reset(timeout)
		expired = timer.C
	}
	for !n.connected && !n.closed {
		wait := n.connCh
		n.mu.Unlock()
		select {
		case <-wait:
		case <-ctx.Done():
			n.mu.Lock()
			return nil, 0, fmt.Errorf("%w: %w", ipc.ErrNotConnected, transport.ContextError[ipc.Error](ctx))
		case <-expired:
			n.mu.Lock()
			return nil, 0, fmt.Errorf("%w: %w", ipc.ErrNotConnected, ipc.ErrTimeout)
		case <-n.stop:
		}
		n.mu.Lock()
	}
	if n.closed {
		return nil, 0, ipc.ErrClosed
	}
	return n.lostCh, time.Until(deadline), nil
}

// cancel tells the serving nodes that nobody waits for the call named key
// (see callKey) any more, so they cancel its handlers' contexts. Best
// effort: a cancel that cannot be sent leaves the handlers to their
// deadline.
func (n *Node) cancel(key string) {
	if err := n.nc.Publish(n.cancelSubject, []byte(key)); err != nil {
		n.log.Debug("natsipc: sending a cancel", "err", err)
	}
}

func trimSlash(s string) string {
	if len(s) > 0 && s[0] == '/' {
		return s[1:]
	}
	return s
}
