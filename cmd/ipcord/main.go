package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"syscall"

	"github.com/ipcord/ipcord/cmd/ipcord/internal/cmdline"
)

// command is one ipcord subcommand.
type command struct {
	name    string
	summary string // one line for the command list
	run     func(ctx context.Context, env *env, args []string) error
}

// env is what a subcommand may touch of the outside world, so tests can run
// subcommands in process.
type env struct {
	stdout io.Writer
	stderr io.Writer
	getenv func(string) string
}

var commands = map[string]*command{}

// register adds c to the command list; it runs from init functions only, so
// a duplicate name is a programming error caught by any test.
func register(c *command) {
	if _, dup := commands[c.name]; dup {
		panic("ipcord: command registered twice: " + c.name)
	}
	commands[c.name] = c
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := runMain(ctx, &env{stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv}, os.Args[1:])
	stop()
	os.Exit(code)
}

// runMain dispatches args to a subcommand and returns the exit status.
func runMain(ctx context.Context, e *env, args []string) int {
	switch {
	case len(args) == 0:
		fmt.Fprint(e.stderr, "ipcord: missing command\n\n")
		printCommands(e.stderr)
		return 2
	case args[0] == "-h" || args[0] == "--help" || args[0] == "-help" || args[0] == "help" && len(args) == 1:
		printCommands(e.stdout)
		return 0
	case args[0] == "help":
		// ipcord help CMD is ipcord CMD -h.
		args = []string{args[1], "-h"}
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(e.stderr, "ipcord: unknown command %q\n\n", args[0])
		printCommands(e.stderr)
		return 2
	}
	return cmdline.ExitCode(e.stderr, "ipcord "+c.name, c.run(ctx, e, args[1:]))
}

func printCommands(w io.Writer) {
	fmt.Fprintln(w, "usage: ipcord <command> [flags]")
	fmt.Fprintln(w)
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-14s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nRun 'ipcord <command> -h' (or 'ipcord help <command>') for a command's flags.")
}
