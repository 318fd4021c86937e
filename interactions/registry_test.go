package interactions_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/ipcord/ipcord/discord"
	"github.com/ipcord/ipcord/interactions"
	"github.com/ipcord/ipcord/internal/leaktest"
)

// TestCatchAllRemoveLookup: a catch-all per interaction type behind the
// specific registrations, hikari's replace rule for it, Remove and Lookup.
func TestCatchAllRemoveLookup(t *testing.T) {
	leaktest.Check(t)
	f := newFixture(t, interactions.Config{})
	e := f.e
	answer := func(body string) string {
		t.Helper()
		status, _, b := f.post(body)
		if status != 200 {
			return fmt.Sprint("status ", status)
		}
		return decodeResponse(t, b).Data.Content
	}
	must(t, e.Command(discord.CommandChatInput, "ping", reply("specific")))
	must(t, e.Listen(discord.InteractionApplicationCommand, reply("catch-all")))
	must(t, e.ComponentPrefix("btn:", reply("prefix")))
	must(t, e.Listen(discord.InteractionMessageComponent, reply("any component")))

	if got := answer(command("ping", "")); got != "specific" {
		t.Fatalf("specific: %q", got)
	}
	if got := answer(command("other", "")); got != "catch-all" {
		t.Fatalf("catch-all: %q", got)
	}
	if got := answer(component("btn:1")); got != "prefix" {
		t.Fatalf("prefix: %q", got)
	}
	if got := answer(component("zzz")); got != "any component" {
		t.Fatalf("component catch-all: %q", got)
	}

	// hikari's set_listener: a second one is refused unless it replaces.
	if err := e.Listen(discord.InteractionApplicationCommand, reply("again")); !errors.Is(err, interactions.ErrDuplicate) {
		t.Fatalf("second catch-all: %v", err)
	}
	must(t, e.Listen(discord.InteractionApplicationCommand, reply("replaced"), interactions.Replace))
	if got := answer(command("other", "")); got != "replaced" {
		t.Fatalf("replaced catch-all: %q", got)
	}
	for _, bad := range []discord.InteractionType{discord.InteractionPing, 0, 42} {
		if err := e.Listen(bad, reply("x")); !errors.Is(err, interactions.ErrBadKey) {
			t.Fatalf("catch-all for %v: %v", bad, err)
		}
	}

	ping := interactions.Key{Type: discord.InteractionApplicationCommand, Name: "ping"}
	if l, ok := e.Lookup(ping); !ok || l == nil {
		t.Fatal("lookup of a registered command")
	}
	if _, ok := e.Lookup(interactions.Key{Type: discord.InteractionApplicationCommand, Name: "nope"}); ok {
		t.Fatal("lookup of an unregistered command")
	}
	if !e.Remove(ping) || e.Remove(ping) {
		t.Fatal("Remove reports wrongly")
	}
	if got := answer(command("ping", "")); got != "replaced" {
		t.Fatalf("after Remove the catch-all answers: %q", got)
	}
	if !e.Remove(interactions.Key{Type: discord.InteractionMessageComponent, Name: "btn:", Prefix: true}) {
		t.Fatal("Remove of a prefix")
	}
	if got := answer(component("btn:1")); got != "any component" {
		t.Fatalf("after removing the prefix: %q", got)
	}
	if !e.Remove(interactions.Key{Type: discord.InteractionApplicationCommand}) {
		t.Fatal("Remove of the catch-all")
	}
	if status, _, _ := f.post(command("ping", "")); status != 501 {
		t.Fatalf("nothing registered: %d", status)
	}
	// A registration can be made again once removed, without Replace.
	must(t, e.Command(discord.CommandChatInput, "ping", reply("back")))
	if got := answer(command("ping", "")); got != "back" {
		t.Fatalf("re-registered: %q", got)
	}
}

// TestLaunchActivityAnswer: every response type Discord documents can be
// a listener's answer where Discord allows it.
func TestLaunchActivityAnswer(t *testing.T) {
	leaktest.Check(t)
	f := newFixture(t, interactions.Config{})
	must(t, f.e.Command(discord.CommandPrimaryEntry, "launch", func(context.Context, *interactions.Event) (*interactions.Response, error) {
		return interactions.LaunchActivity(), nil
	}))
	body := `{"id":"1","application_id":"11","type":2,"token":"tok","version":1,"data":{"id":"9","name":"launch","type":4}}`
	if status, _, b := f.post(body); status != 200 || string(b) != `{"type":12}` {
		t.Fatalf("launch: %d %s", status, b)
	}
}
