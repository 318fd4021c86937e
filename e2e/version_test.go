package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestVersionRevision builds ipcord from a fresh clone as `go install`
// does on a user's machine (VCS stamping on) and checks that `ipcord
// version` names the commit it was built from.
func TestVersionRevision(t *testing.T) {
	clone := freshClone(t)
	head, err := exec.Command("git", "-C", clone, "rev-parse", "HEAD").Output()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "ipcord")
	build := exec.Command("go", "build", "-buildvcs=true", "-o", bin, "./cmd/ipcord")
	build.Dir = clone
	// .ci/run turns stamping off for its own builds; a user's go install
	// has it on.
	build.Env = append(os.Environ(), "GOFLAGS=")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "version").CombinedOutput()
	want := "revision " + strings.TrimSpace(string(head)) + " "
	if err != nil || !strings.HasPrefix(string(out), "ipcord ") || !strings.Contains(string(out), want) || strings.Contains(string(out), "(modified)") {
		t.Fatalf("ipcord version: %v\n%s\nwant a line starting %q, unmodified", err, out, want)
	}
}
