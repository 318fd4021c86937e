package e2e

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestREADMEFirstCommand runs the README's first command, `go run
// ./cmd/ipcord demo`, in a fresh clone of the repository's committed state,
// with the module proxy off (so it needs nothing from the network beyond
// the module cache), on port 0, and stops it with SIGINT.
func TestREADMEFirstCommand(t *testing.T) {
	root, err := exec.Command("git", "rev-parse", "--show-toplevel").Output()
	if err != nil {
		t.Fatalf("the test needs the git repository: %v", err)
	}
	clone := filepath.Join(t.TempDir(), "ipcord")
	if out, err := exec.Command("git", "clone", "-q", strings.TrimSpace(string(root)), clone).CombinedOutput(); err != nil {
		t.Fatalf("git clone: %v %s", err, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "run", "./cmd/ipcord", "demo",
		"--dashboard-addr", "127.0.0.1:0", "--ipc-addr", "127.0.0.1:0", "--discovery-addr", "127.0.0.1:0", "--fake-addr", "127.0.0.1:0")
	cmd.Dir = clone
	cmd.Env = append(os.Environ(), "GOPROXY=off", "DISCORD_TOKEN=")
	// A process group, so that a test that fails kills the demo too.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	dash := regexp.MustCompile(`dashboard +(http://127\.0\.0\.1:[0-9]+)`)
	var url string
	var all []string
	for url == "" {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("demo ended before printing its dashboard: %v\n%s\n%s", cmd.Wait(), strings.Join(all, "\n"), stderr.String())
			}
			all = append(all, l)
			if m := dash.FindStringSubmatch(l); m != nil {
				url = m[1]
			}
		case <-ctx.Done():
			t.Fatalf("demo printed no dashboard URL: %s", strings.Join(all, "\n"))
		}
	}
	resp, err := http.Get(url + "/api/stats")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"shards"`) {
		t.Errorf("dashboard stats: %d %s", resp.StatusCode, body)
	}

	// Ctrl-C goes to the demo itself: `go run` exits 1 whenever it sees
	// an interrupt, whatever its child does.
	pid := childOf(t, cmd.Process.Pid)
	if err := syscall.Kill(pid, syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	stopped := false
	for l := range lines {
		all = append(all, l)
		stopped = stopped || l == "stopped"
	}
	if err := cmd.Wait(); err != nil || !stopped {
		t.Errorf("after Ctrl-C: %v, stopped printed: %v\n%s\n%s", err, stopped, strings.Join(all, "\n"), stderr.String())
	}
}

// childOf returns the one child process of pid, which any of its threads
// may have started.
func childOf(t *testing.T, pid int) int {
	t.Helper()
	tasks, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	if err != nil {
		t.Fatal(err)
	}
	var kids []string
	for _, f := range tasks {
		b, _ := os.ReadFile(f)
		kids = append(kids, strings.Fields(string(b))...)
	}
	if len(kids) != 1 {
		t.Fatalf("go run (pid %d) has children %v, want the demo alone", pid, kids)
	}
	child, err := strconv.Atoi(kids[0])
	if err != nil {
		t.Fatal(err)
	}
	return child
}
