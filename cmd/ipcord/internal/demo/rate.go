package demo

import "time"

// rateWindow is how many one-second buckets the event rate averages over.
const rateWindow = 10

// rate counts events in one-second buckets to report events per second
// over the last rateWindow seconds. It is not safe for concurrent use; the
// Bot guards it with its lock.
type rate struct {
	buckets [rateWindow]int
	sec     int64 // the second buckets[sec%rateWindow] counts
	start   time.Time
}

// add counts one event at now.
func (r *rate) add(now time.Time) {
	r.advance(now)
	r.buckets[r.sec%rateWindow]++
}

// perSecond is the mean rate over the full seconds of the window (or since
// the first event, when that is sooner).
func (r *rate) perSecond(now time.Time) float64 {
	r.advance(now)
	if r.start.IsZero() {
		return 0
	}
	total := 0
	for i, n := range r.buckets {
		if int64(i) != r.sec%rateWindow {
			total += n
		}
	}
	secs := min(now.Sub(r.start).Seconds(), rateWindow-1)
	if secs < 1 {
		return float64(total + r.buckets[r.sec%rateWindow])
	}
	return float64(total) / float64(int(secs))
}

// advance moves the window to now, clearing buckets of seconds that passed.
func (r *rate) advance(now time.Time) {
	if r.start.IsZero() {
		r.start = now
		r.sec = now.Unix()
		return
	}
	s := now.Unix()
	if s <= r.sec {
		return
	}
	for i := r.sec + 1; i <= s && i <= r.sec+rateWindow; i++ {
		r.buckets[i%rateWindow] = 0
	}
	r.sec = s
}
