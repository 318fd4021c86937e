// Command ipcord-nats is `ipcord serve` and `ipcord call` over NATS: it
// serves the diagnostic routes as a named cluster, and calls a route on
// any instance, on one cluster, or on all of them.
//
//	ipcord-nats serve --nats nats://127.0.0.1:4222 --cluster c0
//	ipcord-nats call  --nats nats://127.0.0.1:4222 --cluster c0 ping n=1
//	ipcord-nats call  --nats nats://127.0.0.1:4222 --all ping
//
// It is a separate binary of the natsipc module, not flags of ipcord,
// so that the ipcord command (and the core module) never depend on NATS;
// `ipcord nats ARGS` runs it, so the two read as one tool.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/ipcord/ipcord/internal/cmdline"
)

// errUsage marks an error already explained on stderr: exit status 2.
var errUsage = cmdline.ErrUsage

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Stdout, os.Stderr, os.Args[1:])
	stop()
	os.Exit(code)
}

// run dispatches args to a subcommand and returns the exit status.
func run(ctx context.Context, stdout, stderr io.Writer, args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprintln(stderr, "usage: ipcord-nats serve|call [flags]  (-h after a command lists its flags)")
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	var err error
	switch args[0] {
	case "serve":
		err = runServe(ctx, stdout, stderr, args[1:])
	case "call":
		err = runCall(ctx, stdout, stderr, args[1:])
	default:
		fmt.Fprintf(stderr, "ipcord-nats: unknown command %q (want serve or call)\n", args[0])
		return 2
	}
	return cmdline.ExitCode(stderr, "ipcord-nats", args[0], err)
}
