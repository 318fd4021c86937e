package interactions_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ipcord/ipcord/discord"
	"github.com/ipcord/ipcord/discordtest"
	"github.com/ipcord/ipcord/gateway"
	"github.com/ipcord/ipcord/gateway/shard"
	"github.com/ipcord/ipcord/interactions"
	"github.com/ipcord/ipcord/internal/leaktest"
)

// Each arrival function (viaHTTP, viaGateway, viaNATS) brings one
// interaction to the fixture's endpoint and returns what Discord saw as the
// first response: the HTTP reply's body, or the callback route's.

// viaHTTP posts the interaction to the endpoint, as Discord's HTTP
// delivery does.
func viaHTTP(t *testing.T, f *fixture, body string) string {
	status, _, b := f.post(body)
	if status != 200 {
		t.Fatalf("HTTP %d %s", status, b)
	}
	return string(b)
}

// viaGateway starts a shard on a fake gateway whose handler hands
// INTERACTION_CREATE to Endpoint.Deliver, and returns the arrival
// function: dispatch the interaction, wait for its callback.
func viaGateway(t *testing.T, f *fixture) func(t *testing.T, f *fixture, body string) string {
	delivered := make(chan error, 16)
	g, _ := startGatewayShard(t, func(ctx context.Context, ev shard.Event) {
		if ev.Name == "INTERACTION_CREATE" {
			delivered <- f.e.Deliver(ctx, ev.Data, ev.Received, nil)
		}
	})
	return func(t *testing.T, f *fixture, body string) string {
		f.mu.Lock()
		f.since = time.Now()
		f.mu.Unlock()
		if _, err := g.Dispatch(0, "INTERACTION_CREATE", json.RawMessage(body)); err != nil {
			t.Fatal(err)
		}
		if err := <-delivered; err != nil {
			t.Fatalf("Deliver: %v", err)
		}
		return string(f.waitRequest("POST /interactions/*/*/callback").JSON)
	}
}

// startGatewayShard runs a shard with handler against a fake gateway
// until the test ends, and returns both once the shard has a session.
func startGatewayShard(t *testing.T, handler shard.Handler) (*discordtest.Gateway, *shard.Shard) {
	g := &discordtest.Gateway{HeartbeatInterval: time.Minute}
	if err := g.Start(); err != nil {
		t.Fatal(err)
	}
	s, err := shard.New(shard.Config{Gateway: gateway.Config{Token: "t", URL: g.URL()}, Handler: handler})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
		g.Close()
	})
	wctx, wcancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer wcancel()
	if _, err := g.WaitSession(wctx, 0); err != nil {
		t.Fatal(err)
	}
	return g, s
}

// An INTERACTION_CREATE that waited in the shard's queue behind a slow
// handler is deferred that much sooner: its deadline counts from when the
// shard read it (shard.Event.Received), not from the call to Deliver.
// Here it waits out DeferAfter in the queue, so the defer goes at once.
func TestGatewayDeadlineCountsQueueWait(t *testing.T) {
	leaktest.Check(t)
	const deferAfter = time.Second
	f := newFixture(t, interactions.Config{DeferAfter: deferAfter})
	arrivals, release := make(chan time.Time, 1), make(chan struct{})
	must(t, f.e.Command(discord.CommandChatInput, "slow", func(ctx context.Context, ev *interactions.Event) (*interactions.Response, error) {
		arrivals <- ev.Arrival
		select {
		case <-release:
		case <-ctx.Done():
		}
		return interactions.Reply("later"), nil
	}))
	type delivery struct {
		received, called time.Time
		err              error
	}
	held, unhold, delivered := make(chan struct{}), make(chan struct{}), make(chan delivery, 1)
	g, s := startGatewayShard(t, func(ctx context.Context, ev shard.Event) {
		switch ev.Name {
		case "SLOW_EVENT": // a handler busy with something else
			close(held)
			select {
			case <-unhold:
			case <-ctx.Done():
			}
		case "INTERACTION_CREATE":
			called := time.Now()
			delivered <- delivery{ev.Received, called, f.e.Deliver(ctx, ev.Data, ev.Received, nil)}
		}
	})
	f.mu.Lock()
	f.since = time.Now()
	f.mu.Unlock()
	if _, err := g.Dispatch(0, "SLOW_EVENT", map[string]int{}); err != nil {
		t.Fatal(err)
	}
	<-held
	if _, err := g.Dispatch(0, "INTERACTION_CREATE", json.RawMessage(command("slow", ""))); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for s.Status().Queued != 1 {
		if time.Now().After(deadline) {
			t.Fatal("the interaction never queued")
		}
		time.Sleep(time.Millisecond)
	}
	queued := time.Now()
	time.Sleep(deferAfter) // the interaction waits in the queue
	close(unhold)
	d := <-delivered
	if d.err != nil {
		t.Fatalf("Deliver: %v", d.err)
	}
	if d.received.After(queued) {
		t.Fatalf("received %v after it was seen queued", d.received.Sub(queued))
	}
	if a := <-arrivals; !a.Equal(d.received) {
		t.Fatalf("the listener's arrival is %v after the shard read the event", a.Sub(d.received))
	}
	cb := f.waitRequest("POST /interactions/*/*/callback")
	if string(cb.JSON) != `{"type":5}` {
		t.Fatalf("callback %s, want the defer", cb.JSON)
	}
	// Not before DeferAfter from the read (a timer cannot fire early), and
	// at once after Deliver: counted from Deliver it would take DeferAfter.
	if since := cb.Received.Sub(d.received); since < deferAfter {
		t.Fatalf("deferred %v after the shard read it, before DeferAfter (%v)", since, deferAfter)
	}
	if since := cb.Received.Sub(d.called); since >= deferAfter {
		t.Fatalf("deferred %v after Deliver, as if the time in the queue did not count", since)
	}
	close(release)
	if patch := f.waitRequest("PATCH /webhooks/11/tok/messages/@original"); string(patch.JSON) != `{"content":"later"}` {
		t.Fatalf("late delivery %s", patch.JSON)
	}
}

// TestOneRegistryEveryTransport runs the same listeners for an interaction
// that arrives over HTTP, over the gateway, and forwarded over NATS by
// another endpoint: the same
// answer in time, the same automatic defer before Discord's deadline, the
// same late delivery, the same refusal of a late modal.
func TestOneRegistryEveryTransport(t *testing.T) {
	leaktest.Check(t)
	const deferAfter = 300 * time.Millisecond
	for _, name := range []string{"http", "gateway", "nats"} {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, interactions.Config{DeferAfter: deferAfter})
			arrive := viaHTTP
			switch name {
			case "gateway":
				arrive = viaGateway(t, f)
			case "nats":
				arrive = viaNATS(t, f)
			}
			var n atomic.Int64
			id := func() string { return fmt.Sprint(1100000000000001000 + n.Add(1)) }
			cmd := func(name string) string {
				return strings.Replace(command(name, ""), `"id":"1100000000000000000"`, `"id":"`+id()+`"`, 1)
			}
			release := make(chan struct{})
			must(t, f.e.Command(discord.CommandChatInput, "fast", reply("pong")))
			must(t, f.e.Command(discord.CommandChatInput, "slow", slow(release, interactions.Reply("later"))))
			must(t, f.e.Command(discord.CommandChatInput, "late-modal", slow(release, interactions.Modal("m", "M",
				discord.Label("Name", "", discord.TextInput("n", "", 1))))))
			must(t, f.e.Listen(discord.InteractionModalSubmit, func(_ context.Context, ev *interactions.Event) (*interactions.Response, error) {
				v, _ := ev.Modal.Checked("agree")
				return interactions.Reply(fmt.Sprintf("agree=%v raw=%d", v, len(ev.Raw))), nil
			}))

			if got := arrive(t, f, cmd("fast")); got != `{"type":4,"data":{"content":"pong"}}` {
				t.Fatalf("fast: %s", got)
			}
			// A modal holding a checkbox (a boolean value) is answered by the
			// modal catch-all, with the raw body at hand.
			checkbox := `{"id":"` + id() + `","application_id":"11","type":5,"token":"tok","version":1,"data":{"custom_id":"any",` +
				`"components":[{"id":1,"type":18,"component":{"id":2,"type":23,"custom_id":"agree","value":true}}]}}`
			if got := arrive(t, f, checkbox); got != fmt.Sprintf(`{"type":4,"data":{"content":"agree=true raw=%d"}}`, len(checkbox)) {
				t.Fatalf("checkbox modal: %s", got)
			}

			t0 := time.Now()
			if got := arrive(t, f, cmd("slow")); got != `{"type":5}` {
				t.Fatalf("slow: %s", got)
			}
			if took := time.Since(t0); took < deferAfter || took > 3*time.Second {
				t.Fatalf("the defer came after %v (DeferAfter %v, Discord's deadline 3 s)", took, deferAfter)
			}
			if got := arrive(t, f, cmd("late-modal")); got != `{"type":5}` {
				t.Fatalf("late modal: %s", got)
			}
			close(release)
			patch := f.waitRequest("PATCH /webhooks/11/tok/messages/@original")
			if string(patch.JSON) != `{"content":"later"}` {
				t.Fatalf("late delivery %s", patch.JSON)
			}
			if err := f.waitErr(); !errors.Is(err, interactions.ErrTooLate) {
				t.Fatalf("late modal: %v", err)
			}
		})
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
