package shard

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/ipcord/ipcord/gateway"
)

func TestQueueBounds(t *testing.T) {
	q := newQueue(3, 10)
	ev := func(n int) queued { return queued{ev: Event{Data: make(json.RawMessage, n)}} }
	push := func(q *queue, it queued) bool { ok, _ := q.push(it); return ok }
	if !push(q, ev(4)) || !push(q, ev(4)) {
		t.Fatal("push into a queue with room failed")
	}
	if push(q, ev(4)) {
		t.Fatal("push past the byte bound succeeded")
	}
	select {
	case <-q.room:
		t.Fatal("room signalled before a pop")
	default:
	}
	if _, ok := q.pop(nil); !ok {
		t.Fatal("pop failed")
	}
	select {
	case <-q.room:
	default:
		t.Fatal("no room signal after popping a full queue")
	}
	if !push(q, ev(1)) || !push(q, ev(0)) || push(q, ev(0)) {
		t.Fatal("count bound not kept")
	}
	// An event larger than the byte bound goes into an empty queue alone.
	q2 := newQueue(3, 10)
	if !push(q2, ev(100)) || push(q2, ev(1)) {
		t.Fatal("oversized event handling")
	}
	// Order survives the ring wrapping round.
	q4 := newQueue(4, 1<<20)
	next := int64(0)
	for i := range int64(50) {
		if !push(q4, queued{ev: Event{Seq: i}}) {
			t.Fatalf("push %d", i)
		}
		if i%3 == 2 {
			for range 2 {
				it, _ := q4.pop(nil)
				if it.ev.Seq != next {
					t.Fatalf("popped %d, want %d", it.ev.Seq, next)
				}
				next++
			}
		}
		for q4.len() >= 4 {
			it, _ := q4.pop(nil)
			if it.ev.Seq != next {
				t.Fatalf("popped %d, want %d", it.ev.Seq, next)
			}
			next++
		}
	}
}

// The handler goroutine runs only while events come: the first push into
// an idle queue asks for one, it waits on an empty queue until retired,
// and the next push asks again.
func TestQueueStartsHandler(t *testing.T) {
	q := newQueue(8, 1<<20)
	if _, start := q.push(queued{}); !start {
		t.Fatal("first push did not ask for a handler")
	}
	if _, start := q.push(queued{}); start {
		t.Fatal("push with a handler running asked for another")
	}
	for range 2 {
		if _, ok := q.pop(nil); !ok {
			t.Fatal("pop failed")
		}
	}
	// Empty, not retired: the handler waits (here, until done closes).
	done := make(chan struct{})
	close(done)
	if _, ok := q.pop(done); ok {
		t.Fatal("pop of an empty queue succeeded")
	}
	if _, start := q.push(queued{}); start {
		t.Fatal("a waiting handler was replaced")
	}
	q.pop(nil)
	q.retire()
	if _, ok := q.pop(nil); ok {
		t.Fatal("pop of an empty, retired queue succeeded")
	}
	if _, start := q.push(queued{}); !start {
		t.Fatal("push after the handler ended did not ask for a new one")
	}
	// A push after retire but before the handler looked cancels it.
	q.retire()
	q.push(queued{})
	for range 2 {
		if _, ok := q.pop(nil); !ok {
			t.Fatal("the handler ended with events queued")
		}
	}
}

func TestSendLimiter(t *testing.T) {
	var l sendLimiter
	now := time.Unix(1000, 0)
	interval := 41250 * time.Millisecond
	allowed := sendLimit - reserve(interval)
	if reserve(interval) != 4 {
		t.Fatalf("reserve at Discord's interval = %d, want 4", reserve(interval))
	}
	for i := range allowed {
		if w := l.wait(now, interval); w != 0 {
			t.Fatalf("payload %d must wait %v", i, w)
		}
		l.record(now.Add(time.Duration(i) * time.Millisecond))
	}
	w := l.wait(now.Add(time.Second), interval)
	if want := sendWindow - time.Second; w != want {
		t.Fatalf("wait = %v, want %v (until the oldest leaves the window)", w, want)
	}
	if w := l.wait(now.Add(sendWindow), interval); w != 0 {
		t.Fatalf("after a window: wait %v", w)
	}
	if reserve(time.Millisecond) != sendLimit/2 {
		t.Fatal("reserve not capped")
	}
}

func TestBackoff(t *testing.T) {
	if d := (Backoff{Base: 10 * time.Millisecond}).delay(1, func() float64 { return 0 }); d != DefaultBackoffMin {
		t.Fatalf("first attempt with the default Min waits %v, want %v", d, DefaultBackoffMin)
	}
	b := Backoff{Base: 10 * time.Millisecond, Max: 100 * time.Millisecond, Min: time.Millisecond}
	if d := b.delay(0, func() float64 { return 0.9 }); d != 0 {
		t.Fatalf("attempt 0 waits %v", d)
	}
	for attempt, want := range map[int]time.Duration{1: 10, 2: 20, 3: 40, 4: 80, 5: 100, 50: 100} {
		hi := b.delay(attempt, func() float64 { return 0.999999 })
		lo := b.delay(attempt, func() float64 { return 0 })
		if lo != want*time.Millisecond/2 || hi > want*time.Millisecond || hi < want*time.Millisecond*99/100 {
			t.Fatalf("attempt %d: [%v, %v], want [%v, %v]", attempt, lo, hi, want*time.Millisecond/2, want*time.Millisecond)
		}
	}
}

func TestLocalLimiterRules(t *testing.T) {
	const interval = 40 * time.Millisecond
	l := &LocalLimiter{MaxConcurrency: 2, Interval: interval, Timeout: 200 * time.Millisecond}
	ctx := context.Background()
	t0 := time.Now()
	rel0, err := l.Acquire(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	// Another bucket is free at once.
	rel1, err := l.Acquire(ctx, 1)
	if err != nil || time.Since(t0) > interval/2 {
		t.Fatalf("bucket 1 waited: %v", err)
	}
	rel1(nil)
	// Bucket 0 waits for the release (READY), even past the interval.
	got := make(chan time.Time, 1)
	go func() {
		rel, err := l.Acquire(ctx, 2)
		if err == nil {
			rel(nil)
		}
		got <- time.Now()
	}()
	time.AfterFunc(3*interval, func() { rel0(nil) })
	if at := <-got; at.Sub(t0) < 3*interval {
		t.Fatalf("bucket 0's second IDENTIFY came %v after the first, before its READY", at.Sub(t0))
	}
	// A slot never released frees the bucket after Timeout.
	l2 := &LocalLimiter{Interval: time.Millisecond, Timeout: 50 * time.Millisecond}
	if _, err := l2.Acquire(ctx, 0); err != nil {
		t.Fatal(err)
	}
	t1 := time.Now()
	if _, err := l2.Acquire(ctx, 0); err != nil || time.Since(t1) < 45*time.Millisecond {
		t.Fatalf("timeout not kept: %v after %v", err, time.Since(t1))
	}
	// The budget: spent, then wait for the reset or fail at once.
	l3 := &LocalLimiter{Interval: time.Millisecond, Budget: &Budget{Remaining: 1, Total: 5, ResetAt: time.Now().Add(time.Hour)}}
	rel, err := l3.Acquire(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	rel(nil)
	short, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	if _, err := l3.Acquire(short, 0); !errors.Is(err, ErrIdentifyBudget) {
		t.Fatalf("Acquire past the budget = %v", err)
	}
	l3.mu.Lock()
	l3.Budget.ResetAt = time.Now()
	l3.mu.Unlock()
	if _, err := l3.Acquire(short, 0); err != nil || l3.Budget.Remaining != 4 {
		t.Fatalf("after reset: %v, remaining %d", err, l3.Budget.Remaining)
	}
	if _, err := l3.Acquire(ctx, -1); !errors.Is(err, ErrConfig) {
		t.Fatalf("negative shard: %v", err)
	}
}

func FuzzMemberDispatch(f *testing.F) {
	f.Add("GUILD_MEMBERS_CHUNK", []byte(`{"guild_id":"1","members":[{"user":{"id":"2"}}],"chunk_index":0,"chunk_count":1,"nonce":"abc","not_found":["3",4]}`))
	f.Add("RATE_LIMITED", []byte(`{"opcode":8,"retry_after":12.5,"meta":{"guild_id":"1","nonce":"abc"}}`))
	f.Add("RATE_LIMITED", []byte(`{"opcode":8,"retry_after":1e300}`))
	f.Add("MESSAGE_CREATE", []byte(`{}`))
	f.Fuzz(func(t *testing.T, name string, data []byte) {
		nonce, msg, ok := parseMemberDispatch(name, data)
		if !ok {
			return
		}
		if name == "RATE_LIMITED" {
			var rl *RateLimitedError
			if !errors.As(msg.err, &rl) || rl.RetryAfter < 0 {
				t.Fatalf("RATE_LIMITED gave %v", msg.err)
			}
			return
		}
		if msg.err != nil || len(msg.data) != len(data) {
			t.Fatalf("chunk for nonce %q: %v", nonce, msg.err)
		}
		var m Members
		if _, err := m.merge(msg.data); err != nil && !errors.Is(err, gateway.ErrDecode) {
			t.Fatalf("merge error not typed: %v", err)
		}
	})
}

// A ConnectLimit lets Burst attempts go at once, then queues the rest one
// interval apart, and refills at PerMinute.
func TestConnectLimitReserve(t *testing.T) {
	l := &ConnectLimit{PerMinute: 6, Burst: 2} // one per 10 s
	t0 := time.Unix(1000, 0)
	for i, want := range []time.Duration{0, 0, 10 * time.Second, 20 * time.Second} {
		if got := l.reserve(t0); got != want {
			t.Fatalf("attempt %d at t0 waits %v, want %v", i, got, want)
		}
	}
	// 30 s later the queue (due at 10 s and 20 s) has drained and one
	// token has come back.
	if got := l.reserve(t0.Add(30 * time.Second)); got != 0 {
		t.Fatalf("after 30 s: wait %v, want 0", got)
	}
	if got := l.reserve(t0.Add(30 * time.Second)); got != 10*time.Second {
		t.Fatalf("second after 30 s: wait %v, want 10s", got)
	}
	idle := &ConnectLimit{PerMinute: 6, Burst: 2}
	idle.reserve(t0)
	for i, want := range []time.Duration{0, 0, 10 * time.Second} {
		if got := idle.reserve(t0.Add(time.Hour)); got != want {
			t.Fatalf("after an idle hour, attempt %d waits %v, want %v (Burst caps the bucket)", i, got, want)
		}
	}
	var def ConnectLimit
	for range DefaultConnectsPerMinute {
		if d := def.reserve(t0); d != 0 {
			t.Fatalf("the default burst is shorter than %d", DefaultConnectsPerMinute)
		}
	}
	if d := def.reserve(t0); d != 500*time.Millisecond {
		t.Fatalf("past the default burst: wait %v, want 500ms (120 a minute)", d)
	}
}
