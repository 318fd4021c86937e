package main

import (
	"flag"

	"github.com/ipcord/ipcord/cmd/ipcord/internal/cmdline"
)

// newFlags returns a FlagSet for a subcommand that reports errors on e's
// stderr instead of exiting the process.
func newFlags(e *env, name, usage string) *flag.FlagSet {
	return cmdline.NewFlagSet(e.stderr, "ipcord", name, usage)
}

// parseFlags parses args allowing flags before and after positional
// arguments ("--" ends flags); see cmdline.Parse.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	return cmdline.Parse(fs, args)
}
