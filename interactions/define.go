package interactions

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/ipcord/ipcord/discord"
)

// Define registers l for the application command cmd — for the command
// itself and, for a chat-input command with subcommands, for each
// subcommand's full name — and keeps cmd, so that Commands lists what
// Discord must know from the same place the listeners are registered.
// Flags apply as for Command.
func (e *Endpoint) Define(cmd discord.ApplicationCommand, l Listener, flags ...Flag) error {
	t := cmd.Type
	if t == 0 {
		t = discord.CommandChatInput
	}
	paths := commandPaths(cmd.Name, cmd.Options, 0)
	if !slices.Contains(flags, Replace) {
		// All or nothing: refuse before registering any path.
		for _, p := range paths {
			if _, dup := e.Lookup(Key{Type: discord.InteractionApplicationCommand, Command: t, Name: p}); dup {
				return fmt.Errorf("%w: command %q", ErrDuplicate, p)
			}
		}
	}
	var errs []error
	for _, p := range paths {
		errs = append(errs, e.Command(t, p, l, flags...))
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	e.reg.mu.Lock()
	defer e.reg.mu.Unlock()
	i := slices.IndexFunc(e.reg.defs, func(c discord.ApplicationCommand) bool { return c.Name == cmd.Name && c.Type == cmd.Type })
	if i >= 0 {
		e.reg.defs[i] = cmd
	} else {
		e.reg.defs = append(e.reg.defs, cmd)
	}
	return nil
}

// commandPaths returns the full names a command can be run under: the
// subcommands' when it has any, else its own.
func commandPaths(name string, opts []discord.CommandOptionSpec, depth int) []string {
	var out []string
	for _, o := range opts {
		if depth < 2 && (o.Type == discord.OptionSubCommand || o.Type == discord.OptionSubCommandGroup) {
			out = append(out, commandPaths(strings.TrimSpace(name+" "+o.Name), o.Options, depth+1)...)
		}
	}
	if len(out) == 0 {
		out = []string{name}
	}
	return out
}

// Commands returns the commands registered with Define, in order, ready
// for rest.Client.OverwriteCommands or, encoded as JSON, for
// `ipcord commands sync --file`.
func (e *Endpoint) Commands() []discord.ApplicationCommand {
	e.reg.mu.RLock()
	defer e.reg.mu.RUnlock()
	return slices.Clone(e.reg.defs)
}
