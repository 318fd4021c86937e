package shard_test

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/ipcord/ipcord/discordtest"
	"github.com/ipcord/ipcord/gateway"
	"github.com/ipcord/ipcord/gateway/shard"
	"github.com/ipcord/ipcord/internal/leaktest"
)

// A payload with keys after d, of d's kind or not, over each transport
// compression: the handler's Event, kept past the events that followed
// it, decodes to d itself (typed, and as raw JSON).
func TestKeyAfterDThroughShard(t *testing.T) {
	const data = `{"a":1,"s":"},{"}`
	afters := []string{
		`{"trace":{"a":2}}`,              // an object after an object: Data cannot tell
		`{"trace":"x"}`,                  // a string after an object: the Conn's slow path
		`{"n":[1],"m":{"a":3,"s":"y"}} `, // several, the last of d's kind
	}
	for _, comp := range []gateway.Compression{gateway.CompressNone, gateway.CompressZlib, gateway.CompressZstd} {
		t.Run(comp.String(), func(t *testing.T) {
			leaktest.Check(t)
			g := startGateway(t, time.Minute, nil)
			e := startShard(t, g, func(c *shard.Config) { c.Gateway.Compression = comp })
			e.waitReady(t)
			for _, after := range afters {
				ev, err := discordtest.NewEventAfterD("TRACED", json.RawMessage(data), json.RawMessage(after))
				if err != nil {
					t.Fatal(err)
				}
				if _, err := g.Flood(ctxT(t, 10*time.Second), 0, []*discordtest.Event{ev}, 1); err != nil {
					t.Fatal(err)
				}
				e.dispatch(1) // moves the Conn's buffers on
			}
			e.waitCaughtUp(t, 10*time.Second)
			n := 0
			for _, ev := range e.rec.snapshot() {
				if ev.Name != "TRACED" {
					continue
				}
				var v struct {
					A int
					S string
				}
				if err := ev.Decode(&v); err != nil || v.A != 1 || v.S != "},{" {
					t.Errorf("%s (after d: %s): decoded %+v, %v", ev.Data, afters[n], v, err)
				}
				var raw json.RawMessage
				if err := ev.Decode(&raw); err != nil || string(raw) != data {
					t.Errorf("%s (after d: %s): raw %s, %v", ev.Data, afters[n], raw, err)
				}
				n++
			}
			if n != len(afters) {
				t.Fatalf("%d TRACED events, want %d", n, len(afters))
			}
		})
	}
}

// An Event the caller made or changed decodes its own Data.
func TestEventDecodeOwnData(t *testing.T) {
	var v struct{ A int }
	if err := (shard.Event{Data: json.RawMessage(`{"a":5}`)}).Decode(&v); err != nil || v.A != 5 {
		t.Fatalf("made: %+v %v", v, err)
	}
	g := startGateway(t, time.Minute, nil)
	e := startShard(t, g, nil)
	e.waitReady(t)
	if _, err := g.Dispatch(0, "X", json.RawMessage(`{"a":1}`)); err != nil {
		t.Fatal(err)
	}
	e.waitCaughtUp(t, 10*time.Second)
	evs := e.rec.snapshot()
	ev := evs[len(evs)-1]
	ev.Data = json.RawMessage(`{"a":7}`)
	if err := ev.Decode(&v); err != nil || v.A != 7 {
		t.Fatalf("changed: %+v %v", v, err)
	}
}

// Each event carries the time it was read off the socket: the events of
// one read share it, and those the Conn still held when reading paused
// (the handler was slow) keep it however long they waited, and whatever
// was read meanwhile.
func TestEventReceived(t *testing.T) {
	leaktest.Check(t)
	g := startGateway(t, time.Minute, nil)
	started, release := make(chan struct{}), make(chan struct{})
	var mu sync.Mutex
	var got []shard.Event
	e := startShard(t, g, func(c *shard.Config) {
		c.QueueEvents = 1
		c.Handler = func(ctx context.Context, ev shard.Event) {
			if ev.Name == "E1" {
				close(started)
				select {
				case <-release:
				case <-ctx.Done():
				}
			}
			mu.Lock()
			got = append(got, ev)
			mu.Unlock()
		}
	})
	if _, err := g.WaitSession(ctxT(t, 10*time.Second), 0); err != nil {
		t.Fatal(err)
	}
	// E1..E4 in one write, so in one read: E1 goes to the handler, which
	// keeps it; E2 fills the queue, E3 waits as pending, E4 in the Conn.
	hold, err := g.HoldFrames(0)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"E1", "E2", "E3", "E4"} {
		if _, err := g.Dispatch(0, name, map[string]int{}); err != nil {
			t.Fatal(err)
		}
	}
	sent := time.Now()
	hold()
	select {
	case <-started:
	case <-time.After(10 * time.Second):
		t.Fatal("E1 never reached the handler")
	}
	poll(t, 10*time.Second, "E2 queued", func() bool { return e.s.Status().Queued == 1 })
	between := time.Now()
	// E5 is read while reading is paused (the reader took E1..E4's read);
	// without care, the events the Conn still held would take its time.
	if _, err := g.Dispatch(0, "E5", map[string]int{}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond) // lets the reader take E5 first; the checks hold either way
	close(release)
	poll(t, 10*time.Second, "E5 handled", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got) > 0 && got[len(got)-1].Name == "E5"
	})
	mu.Lock()
	defer mu.Unlock()
	evs := got[len(got)-5:]
	first := evs[0].Received
	if first.Before(sent) || !first.Before(between) {
		t.Fatalf("E1 received %v after it was sent, E2 seen queued %v after", first.Sub(sent), between.Sub(sent))
	}
	for _, ev := range evs[1:4] {
		if !ev.Received.Equal(first) {
			t.Errorf("%s received %v after E1, in the same read", ev.Name, ev.Received.Sub(first))
		}
	}
	if r := evs[4].Received; !r.After(between) {
		t.Errorf("E5 received %v before it was sent", between.Sub(r))
	}
}
