package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/ipcord/ipcord/internal/proctest"
)

// The tests run ipcord as a user does: a binary built from this checkout,
// started as its own process and stopped by PID.

var (
	buildOnce sync.Once
	binDir    string
	buildErr  error
)

// ipcordBinary builds the root module's cmd/ipcord once per test run and returns its path.
func ipcordBinary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		binDir, buildErr = os.MkdirTemp("", "ipcord-e2e-bin")
		if buildErr != nil {
			return
		}
		// Built in the root module, with its go.mod and go.sum, as a user
		// of the clone builds it.
		buildErr = proctest.Build("..", "-o", filepath.Join(binDir, "ipcord"), "./cmd/ipcord")
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return filepath.Join(binDir, "ipcord")
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// process is a long-running command started by a test: its output is
// collected line by line (stdout and stderr together), and it gets SIGINT
// when the test ends, SIGKILL 10 s later.
type process struct{ *proctest.Process }

// startProcess starts name with args in dir (the test's working directory
// when empty), with extra environment variables.
func startProcess(t testing.TB, dir string, env []string, name string, args ...string) *process {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	return &process{proctest.Start(t, cmd, proctest.Config{})}
}
