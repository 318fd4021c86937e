package main

import (
	"github.com/ipcord/ipcord/cmd/ipcord/internal/cmdline"
)

// newFlags returns the flag set of subcommand name, writing help to e's
// stdout and usage errors to its stderr.
func newFlags(e *env, name, synopsis string) *cmdline.Flags {
	return cmdline.NewFlags(e.stdout, e.stderr, "ipcord "+name, synopsis)
}
