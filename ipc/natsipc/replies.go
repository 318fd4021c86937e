package natsipc

import (
	"math"
	"strconv"

	"github.com/nats-io/nats.go"
)

// Replies reach the calls waiting for them in two ways. A call's reply
// comes on the node's inbox subscription, <inbox>.<token>, whose callback
// hands it to the call's channel (onReply). A Broadcast's replies come on
// the node's one broadcast subject, queued on a channel that the waiting
// Broadcasts read themselves (requestMany), passing on replies for one
// another by the id in the envelope (onBroadcastReply).

// onReply routes a message on the reply inbox to the call waiting for it.
func (n *Node) onReply(m *nats.Msg) {
	if token, err := strconv.ParseUint(m.Subject[len(n.inbox):], 36, 64); err == nil {
		n.deliver(n.pending, token, m)
	}
}

// onBroadcastReply routes a reply to a Broadcast by the id it carries. A
// "no responders" status carries none: it goes to every Broadcast waiting,
// since every serving node subscribes every broadcast subject alike.
func (n *Node) onBroadcastReply(m *nats.Msg) {
	if isNoResponders(m) {
		n.pmu.Lock()
		defer n.pmu.Unlock()
		for _, ch := range n.bpending {
			select {
			case ch <- m:
			default:
			}
		}
		return
	}
	n.deliver(n.bpending, replyToken(m), m)
}

// replyToken returns the token of the Broadcast a reply answers, or one
// no Broadcast has.
func replyToken(m *nats.Msg) uint64 {
	t, err := strconv.ParseUint(string(replyID(m.Data)), 36, 64)
	if err != nil {
		return math.MaxUint64
	}
	return t
}

// drainBroadcastReplies routes the broadcast replies nobody has read: they
// are read by the Broadcasts waiting, so replies that come when none waits
// (late ones) would otherwise pile up.
func (n *Node) drainBroadcastReplies() {
	for {
		select {
		case m := <-n.bcastCh:
			n.onBroadcastReply(m)
		default:
			return
		}
	}
}

// deliver hands m to the call waiting under token in pending (n.pending or
// n.bpending); a reply nobody waits for (late, or for a call that gave up)
// is dropped.
func (n *Node) deliver(pending map[uint64]chan *nats.Msg, token uint64, m *nats.Msg) {
	n.pmu.Lock()
	defer n.pmu.Unlock()
	ch := pending[token]
	if ch == nil {
		return
	}
	// Sent under n.pmu, never blocking, so a call that removed its channel
	// from pending knows nothing more arrives on it.
	select {
	case ch <- m:
	default:
		n.log.Warn("natsipc: dropping a reply: the caller's queue is full", "subject", m.Subject)
	}
}

func isNoResponders(m *nats.Msg) bool {
	return len(m.Data) == 0 && m.Header != nil && m.Header.Get("Status") == "503"
}
