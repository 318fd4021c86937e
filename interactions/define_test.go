package interactions_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ipcord/ipcord/discord"
	"github.com/ipcord/ipcord/interactions"
	"github.com/ipcord/ipcord/internal/leaktest"
	"github.com/ipcord/ipcord/rest"
)

// TestDefineCommands: commands defined with their listeners are served
// under every subcommand path, listed by Commands, and registered with
// Discord (here the fake) from that list.
func TestDefineCommands(t *testing.T) {
	leaktest.Check(t)
	f := newFixture(t, interactions.Config{})
	config := discord.ApplicationCommand{Name: "config", Description: "Configure", Options: []discord.CommandOptionSpec{
		{Type: discord.OptionSubCommandGroup, Name: "role", Description: "Roles", Options: []discord.CommandOptionSpec{
			{Type: discord.OptionSubCommand, Name: "add", Description: "Add one"},
			{Type: discord.OptionSubCommand, Name: "remove", Description: "Remove one"},
		}},
		{Type: discord.OptionSubCommand, Name: "show", Description: "Show it"},
	}}
	must(t, f.e.Define(discord.ApplicationCommand{Name: "ping", Description: "Pong!"}, reply("pong")))
	must(t, f.e.Define(config, reply("configured")))
	must(t, f.e.Define(discord.ApplicationCommand{Name: "Profile", Type: discord.CommandUser}, reply("profile")))
	if err := f.e.Define(config, reply("again")); !errors.Is(err, interactions.ErrDuplicate) {
		t.Fatalf("second definition: %v", err)
	}

	sub := `[{"name":"role","type":2,"options":[{"name":"remove","type":1,"options":[]}]}]`
	for body, want := range map[string]string{
		command("ping", ""):                             "pong",
		command("config", sub):                          "configured",
		command("config", `[{"name":"show","type":1}]`): "configured",
		strings.Replace(command("Profile", ""), `"type":1,"options"`, `"type":2,"target_id":"5","options"`, 1): "profile",
	} {
		status, _, b := f.post(body)
		if r := decodeResponse(t, b); status != 200 || r.Data.Content != want {
			t.Errorf("%.70s: %d %s", body, status, b)
		}
	}

	cmds := f.e.Commands()
	if len(cmds) != 3 || cmds[0].Name != "ping" || cmds[1].Options[0].Options[1].Name != "remove" {
		t.Fatalf("Commands: %+v", cmds)
	}
	// The list is what Discord takes: register it with the fake, through
	// the JSON file `ipcord commands sync` reads.
	file := filepath.Join(t.TempDir(), "commands.json")
	data, _ := json.Marshal(cmds)
	os.WriteFile(file, data, 0o600)
	var back []discord.ApplicationCommand
	raw, _ := os.ReadFile(file)
	if err := json.Unmarshal(raw, &back); err != nil {
		t.Fatal(err)
	}
	rc := &rest.Client{Token: "bot-token", BaseURL: f.fake.URL}
	got, err := rc.OverwriteCommands(t.Context(), 11, 0, back)
	if err != nil || len(got) != 3 || len(f.fake.Commands(0)) != 3 {
		t.Fatalf("registered: %+v %v", got, err)
	}
}
