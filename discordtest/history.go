package discordtest

// history is what a fake records of its clients, in order, for tests to
// read and wait on. It keeps everything unless max is set, then at least
// the newest max entries: a fake that runs for days (ipcord fake) must not
// grow without bound. Positions are counted from the first entry ever
// recorded, so a waiter's place stays valid when old entries go.
type history[T any] struct {
	items   []T
	dropped int // entries gone from the front
	max     int // 0 keeps all
}

func (h *history[T]) add(v T) {
	h.items = append(h.items, v)
	if h.max > 0 && len(h.items) >= 2*h.max {
		// Halving at twice the bound keeps adding O(1) amortized. The kept
		// entries move to a new array: slices that readers took of the old
		// one (see from) must not change under them.
		keep := make([]T, h.max, 2*h.max)
		copy(keep, h.items[len(h.items)-h.max:])
		h.dropped += len(h.items) - h.max
		h.items = keep
	}
}

// all returns a copy of the entries kept.
func (h *history[T]) all() []T { return append([]T(nil), h.items...) }

// from returns the entries kept from position pos on (those before the
// oldest kept one are gone) and the position after the last. The entries
// stay as they are after the lock is released: add only appends, or moves
// to a new array.
func (h *history[T]) from(pos int) ([]T, int) {
	i := max(pos-h.dropped, 0)
	return h.items[i:], h.dropped + len(h.items)
}
