package natsipc

// BroadcastBacklog returns the broadcast replies n has received and
// nobody has read yet, and how many it has received in all.
func BroadcastBacklog(n *Node) (queued int, received int64) {
	d, _ := n.bcastSub.Delivered()
	return len(n.bcastCh), d
}

// PauseRenewals stops (or restarts) f's lease renewals, as a member
// starved of CPU or cut from NATS would see them stop.
func PauseRenewals(f *Fleet, paused bool) { f.renewPaused.Store(paused) }
