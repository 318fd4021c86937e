package main

import (
	"errors"
	"flag"
	"fmt"
)

// newFlags returns a FlagSet for a subcommand that reports errors on e's
// stderr instead of exiting the process.
func newFlags(e *env, name, usage string) *flag.FlagSet {
	fs := flag.NewFlagSet("ipcord "+name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "usage: ipcord %s %s\n\nflags:\n", name, usage)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args allowing flags before and after positional
// arguments; "--" ends flags, and everything after it is positional. It
// returns the positional arguments in order.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, errUsage
			}
			return nil, errUsage
		}
		rest := fs.Args()
		// flag.Parse swallows a "--" terminator; detect it by looking at
		// the argument just before what remains.
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			return append(pos, rest...), nil
		}
		if len(rest) == 0 {
			return pos, nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}
