package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"

	"github.com/ipcord/ipcord/internal/cmdline"
)

// The NATS transport lives in its own module (ipc/natsipc) so that ipcord
// and the core module never depend on NATS. `ipcord nats ...` runs its
// command, ipcord-nats, found on PATH (or at $IPCORD_NATS_BIN), so the
// two read as one tool:
//
//	ipcord nats serve --nats nats://127.0.0.1:4222 --cluster c0
//	ipcord nats call --nats nats://127.0.0.1:4222 --all ping

func init() {
	register(&command{name: "nats", summary: "ipc over NATS: serve --cluster / call --cluster|--all (runs ipcord-nats)", run: runNATS})
}

func runNATS(ctx context.Context, e *env, args []string) error {
	bin := e.getenv("IPCORD_NATS_BIN")
	if bin == "" {
		var err error
		if bin, err = exec.LookPath("ipcord-nats"); err != nil {
			fmt.Fprintln(e.stderr, "ipcord nats: ipcord-nats is not installed; install it with\n\tgo install github.com/ipcord/ipcord/ipc/natsipc/cmd/ipcord-nats@latest")
			return cmdline.ExitError{Code: 1}
		}
	}
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, e.stdout, e.stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) && ee.ExitCode() > 0 {
		return cmdline.ExitError{Code: ee.ExitCode()}
	}
	if err != nil {
		return fmt.Errorf("running %s: %w", bin, err)
	}
	return nil
}
