package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestNATSRunsIpcordNats(t *testing.T) {
	dir := t.TempDir()
	fake := filepath.Join(dir, "ipcord-nats")
	// A stand-in for ipcord-nats that shows its arguments and exit status.
	script := "#!/bin/sh\necho \"args: $*\"\nexit 3\n"
	if err := os.WriteFile(fake, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	e, out, _ := testEnv(map[string]string{"IPCORD_NATS_BIN": fake})
	code := runMain(context.Background(), e, []string{"nats", "call", "--all", "ping"})
	if code != 3 || strings.TrimSpace(out.String()) != "args: call --all ping" {
		t.Fatalf("exit %d, output %q; want ipcord-nats's own status and the arguments passed through", code, out)
	}

	e, _, errb := testEnv(map[string]string{"IPCORD_NATS_BIN": filepath.Join(dir, "missing")})
	if code := runMain(context.Background(), e, []string{"nats", "serve"}); code != 1 || !strings.Contains(errb.String(), "missing") {
		t.Fatalf("missing binary: exit %d, stderr %q", code, errb)
	}
}
