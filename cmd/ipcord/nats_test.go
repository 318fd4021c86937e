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

// `ipcord serve --nats` and `ipcord call --nats` are the spelling
// of the same commands: they hand over to ipcord-nats with the NATS flags.
func TestServeAndCallWithNATSFlag(t *testing.T) {
	dir := t.TempDir()
	fake := filepath.Join(dir, "ipcord-nats")
	if err := os.WriteFile(fake, []byte("#!/bin/sh\necho \"args: $*\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"serve", "--nats", "nats://127.0.0.1:4222", "--cluster", "c0"}, "args: serve --nats nats://127.0.0.1:4222 --cluster c0"},
		{[]string{"call", "--nats", "nats://127.0.0.1:4222", "--all", "ping", "n=5"}, "args: call --nats nats://127.0.0.1:4222 --timeout 5s --all -- ping n=5"},
		{[]string{"call", "ping", "--nats", "nats://h:4222", "--cluster", "c1", "--timeout", "2s"}, "args: call --nats nats://h:4222 --timeout 2s --cluster c1 -- ping"},
	} {
		e, out, errb := testEnv(map[string]string{"IPCORD_NATS_BIN": fake})
		if code := runMain(context.Background(), e, tt.args); code != 0 || strings.TrimSpace(out.String()) != tt.want {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want %q", tt.args, code, out, errb, tt.want)
		}
	}
}
