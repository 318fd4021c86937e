package cmdline

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// ErrUsage marks a usage error already explained on stderr (what is wrong,
// then the usage); a program exits 2 without printing it again.
var ErrUsage = errors.New("usage")

// ErrHelp marks a request for help already answered on stdout; a program
// exits 0.
var ErrHelp = errors.New("help requested")

// Flags is one subcommand's flag set. It never exits the process: -h and
// --help print the help on stdout (ErrHelp), and a bad flag or argument
// prints what is wrong and then the usage on stderr (ErrUsage).
type Flags struct {
	*flag.FlagSet
	cmd      string // "ipcord call"
	synopsis string
	about    string
	stdout   io.Writer
	stderr   io.Writer
}

// NewFlags returns the flag set of subcommand cmd ("ipcord call"), whose
// usage line is "usage: cmd synopsis".
func NewFlags(stdout, stderr io.Writer, cmd, synopsis string) *Flags {
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // Parse reports errors itself
	fs.Usage = func() {}
	return &Flags{FlagSet: fs, cmd: cmd, synopsis: synopsis, stdout: stdout, stderr: stderr}
}

// About sets the text the help shows between the usage line and the flags:
// what the command does, and examples.
func (f *Flags) About(text string) { f.about = strings.TrimSpace(text) }

// Parse parses args allowing flags before and after positional arguments;
// "--" ends flags, and everything after it is positional. It returns the
// positional arguments in order, ErrHelp after printing the help, or
// ErrUsage after explaining a bad flag.
func (f *Flags) Parse(args []string) ([]string, error) {
	var pos []string
	for {
		if err := f.FlagSet.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				f.PrintHelp(f.stdout)
				return nil, ErrHelp
			}
			return nil, f.Fail("%v", err)
		}
		rest := f.Args()
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

// Fail reports a usage error: "cmd: what is wrong" and then the usage, on
// stderr. It returns ErrUsage.
func (f *Flags) Fail(format string, a ...any) error {
	fmt.Fprintf(f.stderr, "%s: %s\n\n", f.cmd, fmt.Sprintf(format, a...))
	f.printUsage(f.stderr)
	fmt.Fprintf(f.stderr, "\nRun '%s -h' for the flags.\n", f.cmd)
	return ErrUsage
}

// PrintHelp writes the usage line, the About text and the flags to w.
func (f *Flags) PrintHelp(w io.Writer) {
	f.printUsage(w)
	if f.about != "" {
		fmt.Fprintf(w, "\n%s\n", f.about)
	}
	n := 0
	f.VisitAll(func(*flag.Flag) { n++ })
	if n > 0 {
		fmt.Fprintln(w, "\nflags:")
		f.SetOutput(w)
		f.PrintDefaults()
		f.SetOutput(io.Discard)
	}
}

func (f *Flags) printUsage(w io.Writer) {
	fmt.Fprintf(w, "usage: %s %s\n", f.cmd, f.synopsis)
}

// Given reports whether the flag name was given on the command line.
func (f *Flags) Given(name string) bool {
	set := false
	f.Visit(func(fl *flag.Flag) { set = set || fl.Name == name })
	return set
}
