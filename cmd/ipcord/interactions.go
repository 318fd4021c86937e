package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/ipcord/ipcord/discord"
	"github.com/ipcord/ipcord/interactions"
	"github.com/ipcord/ipcord/rest"
)

func init() {
	register(&command{name: "interactions", summary: "run a sample interactions endpoint", run: runInteractions})
}

// interactionsAbout is the help of `ipcord interactions`: the sample
// commands registerSample serves, and where keys come from.
const interactionsAbout = `
Serves a sample interactions endpoint at http://ADDR/interactions: every
request is verified with the application's public key (signature, replay
window, body limit) before it is answered. The commands it serves:

  /ping    answers "pong" with an Echo button; the button answers with its custom_id
  /fruit   autocompletes its "name" option from a list of fruits, then says the pick
  /slow    works --slow (3s), longer than Discord's 3 s, so it is deferred and then edited

Keys: Discord shows your application's public key on the Developer Portal
(General Information), and signs with the private half. To try it without
Discord, ` + "`ipcord keygen`" + ` prints a key pair (export $(ipcord keygen) sets
IPCORD_PUBLIC_KEY and IPCORD_PRIVATE_KEY); serve with its public key, and sign
a request with ` + "`ipcord sign --body JSON`" + ` to send it with curl.

The commands are defined with their listeners; --print-commands writes them
as the JSON ` + "`ipcord commands sync --file`" + ` registers with Discord.`

// runInteractions serves a sample endpoint at /interactions: /ping answers
// pong with a button that echoes its custom_id, /fruit autocompletes, and
// /slow is deferred and then edited.
func runInteractions(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "interactions", "[--addr 127.0.0.1:8081] --public-key HEX")
	fs.About(interactionsAbout)
	var listen string
	fs.StringVar(&listen, "addr", "127.0.0.1:8081", "address to listen on")
	fs.StringVar(&listen, "listen", "127.0.0.1:8081", "same as --addr (its former name)")
	pubKey := fs.String("public-key", "", "application public key, 64 hex (default $IPCORD_PUBLIC_KEY)")
	restURL := fs.String("rest-url", "", "Discord API base URL (default Discord's; a fake's for tests)")
	deferAfter := fs.Duration("defer-after", interactions.DefaultDeferAfter, "defer listeners that take longer than this")
	slow := fs.Duration("slow", 3*time.Second, "how long /slow works before answering")
	verbose := fs.Bool("v", false, "log at debug level to stderr")
	printCommands := fs.Bool("print-commands", false, "print the sample's commands as JSON for `ipcord commands sync --file` and exit")
	pos, err := fs.Parse(args)
	if err != nil {
		return err
	}
	if *pubKey == "" {
		*pubKey = e.getenv("IPCORD_PUBLIC_KEY")
	}
	if *printCommands && len(pos) == 0 {
		return printSampleCommands(e, *slow)
	}
	switch {
	case len(pos) > 0:
		return fs.Fail("unexpected argument %q", pos[0])
	case *pubKey == "":
		return fs.Fail("no public key: pass --public-key HEX or set IPCORD_PUBLIC_KEY")
	}
	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	ep, err := interactions.New(interactions.Config{
		PublicKey:  *pubKey,
		REST:       &rest.Client{BaseURL: *restURL},
		DeferAfter: *deferAfter,
		Logger:     slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: level})),
	})
	if err != nil {
		return err
	}
	if err := registerSample(ep, *slow); err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("/interactions", ep)
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", listen)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "listening on http://%s/interactions\n", ln.Addr())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second, WriteTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err = <-served:
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	srv.Shutdown(sctx)
	if serr := ep.Shutdown(sctx); serr != nil && err == nil {
		err = serr
	}
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

var fruits = []string{"apple", "apricot", "banana", "blueberry", "cherry", "grape", "kiwi", "lemon", "mango", "orange", "peach", "pear", "plum"}

// printSampleCommands writes the commands registerSample defines, the
// registry being the one source of truth for what Discord must know.
func printSampleCommands(e *env, slow time.Duration) error {
	ep, err := interactions.New(interactions.Config{PublicKey: strings.Repeat("0", 64)})
	if err != nil {
		return err
	}
	defer ep.Shutdown(context.Background())
	if err := registerSample(ep, slow); err != nil {
		return err
	}
	out, err := json.MarshalIndent(ep.Commands(), "", "  ")
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%s\n", out)
	return nil
}

func registerSample(ep *interactions.Endpoint, slow time.Duration) error {
	return errors.Join(
		ep.Define(discord.ApplicationCommand{Name: "ping", Description: "Pong, with an Echo button"}, func(context.Context, *interactions.Event) (*interactions.Response, error) {
			return interactions.Reply("pong").WithComponents(discord.ActionRow(
				discord.Button(discord.ButtonPrimary, "Echo", "echo:hello"))), nil
		}),
		ep.ComponentPrefix("echo:", func(_ context.Context, ev *interactions.Event) (*interactions.Response, error) {
			return interactions.Reply("custom_id: " + ev.Component.CustomID).Ephemeral(), nil
		}),
		ep.Autocomplete("fruit", func(_ context.Context, ev *interactions.Event) (*interactions.Response, error) {
			typed := ""
			if o := ev.Command.Focused(); o != nil {
				typed, _ = o.AsString()
			}
			var choices []discord.CommandOptionChoice
			for _, f := range fruits {
				if strings.HasPrefix(f, strings.ToLower(typed)) && len(choices) < 25 {
					choices = append(choices, discord.CommandOptionChoice{Name: f, Value: f})
				}
			}
			return interactions.Choices(choices...), nil
		}),
		ep.Define(discord.ApplicationCommand{Name: "fruit", Description: "Pick a fruit", Options: []discord.CommandOptionSpec{
			{Type: discord.OptionString, Name: "name", Description: "The fruit", Required: true, Autocomplete: true},
		}}, func(_ context.Context, ev *interactions.Event) (*interactions.Response, error) {
			name := "nothing"
			if o := ev.Command.Option("name"); o != nil {
				name, _ = o.AsString()
			}
			return interactions.Reply("you picked " + name).WithAllowedMentions(discord.AllowedMentions{}), nil
		}),
		ep.Define(discord.ApplicationCommand{Name: "slow", Description: "Works longer than Discord's 3 seconds"}, func(ctx context.Context, _ *interactions.Event) (*interactions.Response, error) {
			t := time.NewTimer(slow)
			defer t.Stop()
			select {
			case <-t.C:
				return interactions.Reply(fmt.Sprintf("done after %v", slow)), nil
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}),
	)
}
