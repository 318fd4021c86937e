package interactions_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/ipcord/ipcord/discord"
	"github.com/ipcord/ipcord/interactions"
	"github.com/ipcord/ipcord/internal/leaktest"
)

func TestListenerKeys(t *testing.T) {
	leaktest.Check(t)
	f := newFixture(t, interactions.Config{})
	e := f.e
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(e.Command(discord.CommandChatInput, "config", reply("config")))
	must(e.Command(discord.CommandChatInput, "config role add", reply("role add")))
	must(e.Command(discord.CommandChatInput, "config  role  remove", reply("role remove")))
	must(e.Command(discord.CommandUser, "config", reply("user menu")))
	must(e.Component("btn", reply("exact")))
	must(e.ComponentPrefix("b", reply("short prefix")))
	must(e.ComponentPrefix("btn:", reply("long prefix")))
	must(e.Modal("form", reply("modal")))
	must(e.ModalPrefix("form:", reply("modal prefix")))
	must(e.Autocomplete("config role add", func(_ context.Context, ev *interactions.Event) (*interactions.Response, error) {
		v, _ := ev.Command.Focused().AsString()
		return interactions.Choices(discord.CommandOptionChoice{Name: v + "1", Value: v + "1"}), nil
	}))

	if err := e.Command(discord.CommandChatInput, "config role add", reply("again")); !errors.Is(err, interactions.ErrDuplicate) {
		t.Fatalf("duplicate command: %v", err)
	}
	if err := e.ComponentPrefix("btn:", reply("again")); !errors.Is(err, interactions.ErrDuplicate) {
		t.Fatalf("duplicate prefix: %v", err)
	}
	if err := e.Component("", reply("x")); !errors.Is(err, interactions.ErrBadKey) {
		t.Fatalf("empty custom id: %v", err)
	}
	must(e.Modal("form", reply("modal replaced"), interactions.Replace))

	sub := `[{"name":"role","type":2,"options":[{"name":"add","type":1,"options":[{"name":"r","type":8,"value":"3"}]}]}]`
	userCmd := strings.Replace(command("config", ""), `"type":1,"options"`, `"type":2,"target_id":"5","options"`, 1)
	cases := []struct {
		body, want string
	}{
		{command("config", ""), "config"},
		{command("config", sub), "role add"},
		{command("config", strings.Replace(sub, `"add"`, `"remove"`, 1)), "role remove"},
		{userCmd, "user menu"},
		{component("btn"), "exact"},
		{component("btn:42"), "long prefix"},
		{component("bx"), "short prefix"},
		{modal("form"), "modal replaced"},
		{modal("form:7"), "modal prefix"},
	}
	for _, c := range cases {
		status, _, body := f.post(c.body)
		r := decodeResponse(t, body)
		if status != 200 || r.Type != discord.ResponseMessage || r.Data.Content != c.want {
			t.Errorf("%.80s: %d %s, want %q", c.body, status, body, c.want)
		}
	}
	ac := `{"id":"1","application_id":"11","type":4,"token":"tok","version":1,"data":{"id":"9","name":"config","type":1,` +
		`"options":[{"name":"role","type":2,"options":[{"name":"add","type":1,"options":[{"name":"q","type":3,"value":"ab","focused":true}]}]}]}}`
	status, _, body := f.post(ac)
	if status != 200 || string(body) != `{"type":8,"data":{"choices":[{"name":"ab1","value":"ab1"}]}}` {
		t.Fatalf("autocomplete: %d %s", status, body)
	}
	if status, _, body := f.post(component("zzz")); status != 501 {
		t.Fatalf("unmatched component: %d %s", status, body)
	}
	if status, _, _ := f.post(autocomplete("config")); status != 501 {
		t.Fatalf("autocomplete of a command without one: %d", status)
	}
}

func TestFailingListeners(t *testing.T) {
	leaktest.Check(t)
	f := newFixture(t, interactions.Config{})
	f.e.Command(1, "panic", func(context.Context, *interactions.Event) (*interactions.Response, error) { panic("boom") })
	f.e.Command(1, "error", func(context.Context, *interactions.Event) (*interactions.Response, error) {
		return nil, errors.New("db down")
	})
	f.e.Command(1, "nil", func(context.Context, *interactions.Event) (*interactions.Response, error) { return nil, nil })
	f.e.Command(1, "update", func(context.Context, *interactions.Event) (*interactions.Response, error) {
		return interactions.Update("x"), nil // not allowed for a command
	})
	f.e.Command(1, "long", func(context.Context, *interactions.Event) (*interactions.Response, error) {
		return interactions.Reply(strings.Repeat("é", 2001)), nil
	})
	f.e.Command(1, "ok", reply("fine"))

	want := map[string]func(error) bool{
		"panic":  func(err error) bool { var p *interactions.PanicError; return errors.As(err, &p) && p.Value == "boom" },
		"error":  func(err error) bool { return err.Error() == "db down" },
		"nil":    func(err error) bool { return errors.Is(err, interactions.ErrNoResponse) },
		"update": func(err error) bool { return errors.Is(err, interactions.ErrInvalidResponse) },
		"long": func(err error) bool {
			var le *interactions.LimitError
			return errors.As(err, &le) && le.Field == "content" && le.Got == 2001 && errors.Is(err, interactions.ErrLimit)
		},
	}
	for name, check := range want {
		status, _, body := f.post(command(name, ""))
		if status != 500 || string(body) != `{"message":"listener failed"}` {
			t.Errorf("%s: %d %s", name, status, body)
		}
		if err := f.waitErr(); !check(err) {
			t.Errorf("%s: reported %v", name, err)
		}
		// The endpoint keeps serving.
		if status, _, _ := f.post(command("ok", "")); status != 200 {
			t.Fatalf("after %s: %d", name, status)
		}
	}
}
