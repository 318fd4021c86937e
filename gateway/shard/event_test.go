package shard_test

import (
	"encoding/json"
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
