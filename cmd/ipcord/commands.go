package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/ipcord/ipcord/discord"
	"github.com/ipcord/ipcord/rest"
)

func init() {
	register(&command{name: "commands", summary: "register application commands: commands sync --file commands.json", run: runCommands})
}

// runCommands registers the application commands in a JSON file (an array
// of application command objects, as interactions.Endpoint.Commands
// writes) with one bulk overwrite, globally or in one guild.
func runCommands(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "commands", "sync --file commands.json [--guild ID] [--app ID]")
	file := fs.String("file", "", "JSON array of application commands")
	guild := fs.String("guild", "", "register in this guild (immediate) instead of globally")
	app := fs.String("app", "", "application ID (default: the token's application)")
	restURL := fs.String("rest-url", "", "Discord API base URL (default Discord's; a fake's for tests)")
	pos, err := fs.Parse(args)
	if err != nil {
		return err
	}
	token := e.getenv("DISCORD_TOKEN")
	switch {
	case len(pos) == 0:
		return fs.Fail("missing the subcommand: sync")
	case len(pos) > 1 || pos[0] != "sync":
		return fs.Fail("unexpected argument %q (the one subcommand is sync)", pos[len(pos)-1])
	case *file == "":
		return fs.Fail("missing --file FILE")
	}
	if token == "" {
		return errors.New("set DISCORD_TOKEN to the bot token")
	}
	data, err := os.ReadFile(*file)
	if err != nil {
		return err
	}
	var cmds []discord.ApplicationCommand
	if err := json.Unmarshal(data, &cmds); err != nil {
		return fmt.Errorf("%s is not a JSON array of application commands: %w", *file, err)
	}
	var guildID, appID discord.Snowflake
	if *guild != "" {
		if guildID, err = discord.ParseSnowflake(*guild); err != nil {
			return fmt.Errorf("--guild: %w", err)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	rc := &rest.Client{Token: token, BaseURL: *restURL}
	if *app != "" {
		if appID, err = discord.ParseSnowflake(*app); err != nil {
			return fmt.Errorf("--app: %w", err)
		}
	} else {
		a, err := rc.CurrentApplication(ctx)
		if err != nil {
			return err
		}
		appID = a.ID
	}
	got, err := rc.OverwriteCommands(ctx, appID, guildID, cmds)
	if err != nil {
		return err
	}
	where := "globally"
	if guildID != 0 {
		where = "in guild " + guildID.String()
	}
	fmt.Fprintf(e.stdout, "%d commands registered %s\n", len(got), where)
	for _, c := range got {
		fmt.Fprintf(e.stdout, "  %s  %s\n", c.ID, c.Name)
	}
	return nil
}
