package cmdline

import (
	"errors"
	"flag"
	"fmt"
	"io"
)

// ErrUsage marks an error already explained to the user on stderr (the
// usage text was printed); a program exits 2 without printing it again.
var ErrUsage = errors.New("usage")

// NewFlagSet returns a FlagSet for subcommand name of program that reports
// errors on stderr instead of exiting the process.
func NewFlagSet(stderr io.Writer, program, name, usage string) *flag.FlagSet {
	fs := flag.NewFlagSet(program+" "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: %s %s %s\n\nflags:\n", program, name, usage)
		fs.PrintDefaults()
	}
	return fs
}

// Parse parses args allowing flags before and after positional arguments;
// "--" ends flags, and everything after it is positional. It returns the
// positional arguments in order, or ErrUsage after the flag package has
// explained a bad flag.
func Parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, ErrUsage
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
