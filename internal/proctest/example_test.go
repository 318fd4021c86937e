package proctest_test

import (
	"os/exec"
	"regexp"
	"testing"
	"time"

	"github.com/ipcord/ipcord/internal/proctest"
)

// A test runs the ipcord binary as a user would and waits for the line
// that says where it listens; the process is stopped with SIGINT when the
// test ends.
func ExampleStart() {
	testServe := func(t *testing.T, ipcord string) {
		p := proctest.Start(t, exec.Command(ipcord, "serve", "--addr", "127.0.0.1:0"), proctest.Config{})
		url := p.WaitFor(t, regexp.MustCompile(`serving "\w+" on (ws://\S+)`), 30*time.Second)[1]
		_ = url // dial it, call it...
	}
	_ = testServe
}
