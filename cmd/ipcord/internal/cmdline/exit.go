package cmdline

import (
	"errors"
	"fmt"
	"io"
)

// ExitError is an error already reported to the user that asks for a
// specific exit status.
type ExitError struct{ Code int }

func (e ExitError) Error() string { return fmt.Sprintf("exit status %d", e.Code) }

// ExitCode turns what subcommand cmd ("ipcord call") returned into the
// process's exit status: 0 for nil and ErrHelp, 2 for ErrUsage, an
// ExitError's own code, and otherwise 1, after printing "cmd: err" on
// stderr: every error the user sees has that one prefix.
func ExitCode(stderr io.Writer, cmd string, err error) int {
	var ee ExitError
	switch {
	case err == nil, errors.Is(err, ErrHelp):
		return 0
	case errors.Is(err, ErrUsage):
		return 2
	case errors.As(err, &ee):
		return ee.Code
	default:
		fmt.Fprintf(stderr, "%s: %v\n", cmd, err)
		return 1
	}
}
