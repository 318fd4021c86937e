package cmdline

import (
	"errors"
	"fmt"
	"io"
)

// ExitError is an error already reported to the user that asks for a
// specific exit status (1 for a failed call).
type ExitError struct{ Code int }

func (e ExitError) Error() string { return fmt.Sprintf("exit status %d", e.Code) }

// ExitCode turns what subcommand cmd of program returned into the process's
// exit status: 0 for nil, 2 for ErrUsage, an ExitError's own code, and
// otherwise 1, after printing "program cmd: err" on stderr.
func ExitCode(stderr io.Writer, program, cmd string, err error) int {
	var ee ExitError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, ErrUsage):
		return 2
	case errors.As(err, &ee):
		return ee.Code
	default:
		fmt.Fprintf(stderr, "%s %s: %v\n", program, cmd, err)
		return 1
	}
}
