package e2e

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
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
		build := exec.Command("go", "build", "-o", filepath.Join(binDir, "ipcord"), "./cmd/ipcord")
		build.Dir = ".."
		if out, err := build.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build ./cmd/ipcord: %v\n%s", err, out)
		}
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
// collected line by line (stdout and stderr together), and it is stopped
// by PID when the test ends.
type process struct {
	cmd     *exec.Cmd
	exited  chan struct{} // closed when the process has ended
	waitErr error         // cmd.Wait's result, set before exited is closed
	mu      sync.Mutex
	out     []string
	more    chan struct{} // closed and replaced when a line arrives or output ends
	done    bool
}

// startProcess starts name with args in dir (the test's working directory
// when empty), with extra environment variables, in a process group of its
// own; when the test ends it gets SIGINT, then SIGKILL after 10 s.
func startProcess(t testing.TB, dir string, env []string, name string, args ...string) *process {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	w.Close()
	p := &process{cmd: cmd, more: make(chan struct{}), exited: make(chan struct{})}
	go func() {
		sc := bufio.NewScanner(r)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			p.mu.Lock()
			p.out = append(p.out, sc.Text())
			close(p.more)
			p.more = make(chan struct{})
			p.mu.Unlock()
		}
		r.Close()
		p.mu.Lock()
		p.done = true
		close(p.more)
		p.mu.Unlock()
	}()
	go func() { p.waitErr = cmd.Wait(); close(p.exited) }()
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGINT)
		select {
		case <-p.exited:
		case <-time.After(10 * time.Second):
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-p.exited
			t.Errorf("%s %q did not stop on SIGINT within 10 s", name, args)
		}
	})
	return p
}

// output returns every line printed so far.
func (p *process) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.out, "\n")
}

// waitFor waits until a line matches re and returns its submatches; it
// fails the test when the process ends first or timeout passes.
func (p *process) waitFor(t testing.TB, re *regexp.Regexp, timeout time.Duration) []string {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	seen := 0
	for {
		p.mu.Lock()
		lines, done, more := p.out[seen:], p.done, p.more
		p.mu.Unlock()
		for _, l := range lines {
			if m := re.FindStringSubmatch(l); m != nil {
				return m
			}
		}
		seen += len(lines)
		if done {
			t.Fatalf("%q ended before printing a line matching %s:\n%s", p.cmd.Args, re, p.output())
		}
		select {
		case <-more:
		case <-deadline.C:
			t.Fatalf("%q printed no line matching %s in %v:\n%s", p.cmd.Args, re, timeout, p.output())
		}
	}
}
