package shard

import "time"

// Discord's send limit: 120 payloads per 60 s per connection, heartbeats
// included; one more closes the connection with 4008.
const (
	sendLimit  = 120
	sendWindow = 60 * time.Second
)

// sendLimiter is a sliding window over the times of the payloads sent on
// one connection. Heartbeats, IDENTIFY and RESUME always go (they are
// recorded); the user's payloads wait so that room is kept for the
// heartbeats the current interval will need in the next window.
type sendLimiter struct {
	// times are offsets from epoch (the first payload's time), 8 bytes a
	// payload rather than a time.Time's 24: every idle shard holds a
	// window of them.
	times [sendLimit]time.Duration // ring: times[next] is the oldest once full
	epoch time.Time
	next  int
	n     int
}

func (l *sendLimiter) reset() { *l = sendLimiter{} }

// since is now as an offset from epoch.
func (l *sendLimiter) since(now time.Time) time.Duration {
	if l.epoch.IsZero() {
		l.epoch = now
	}
	return now.Sub(l.epoch)
}

// record notes a payload sent at now.
func (l *sendLimiter) record(now time.Time) {
	l.times[l.next] = l.since(now)
	l.next = (l.next + 1) % sendLimit
	if l.n < sendLimit {
		l.n++
	}
}

// reserve is how many slots are kept for heartbeats at interval: one per
// interval in a window, plus one for a heartbeat Discord asks for, plus one
// for a RESUME or IDENTIFY. It never takes more than half the limit, so a
// tiny test interval cannot starve sends for ever.
func reserve(interval time.Duration) int {
	r := 2
	if interval > 0 {
		r += int((sendWindow + interval - 1) / interval)
	} else {
		r += 2
	}
	return min(r, sendLimit/2)
}

// wait returns how long a user payload must wait at now; 0 means send now.
func (l *sendLimiter) wait(now time.Time, interval time.Duration) time.Duration {
	allowed := sendLimit - reserve(interval)
	at := l.since(now)
	// Count the payloads still inside the window, oldest first.
	oldest := (l.next - l.n + sendLimit) % sendLimit
	inWindow := 0
	first := -1
	for i := range l.n {
		t := l.times[(oldest+i)%sendLimit]
		if at-t < sendWindow {
			if first < 0 {
				first = i
			}
			inWindow++
		}
	}
	if inWindow < allowed {
		return 0
	}
	// The (inWindow-allowed+1)-th oldest in-window payload must expire.
	k := first + inWindow - allowed
	return l.times[(oldest+k)%sendLimit] + sendWindow - at
}
