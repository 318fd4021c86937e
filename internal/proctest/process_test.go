package proctest_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ipcord/ipcord/internal/proctest"
)

func ctxT(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// Lines are read as they come, stdout and stderr together by default;
// WaitLine goes on from where the last wait ended.
func TestLines(t *testing.T) {
	p := proctest.Start(t, exec.Command("sh", "-c", "echo one; echo two >&2; echo 'port 42'; exec sleep 60"), proctest.Config{})
	if m := p.WaitFor(t, regexp.MustCompile(`port (\d+)`), 10*time.Second); m[1] != "42" {
		t.Fatalf("submatches %q", m)
	}
	if out := p.Output(); out != "one\ntwo\nport 42" {
		t.Fatalf("output %q", out)
	}
	line, next, err := p.WaitLine(ctxT(t, 10*time.Second), 1, func(string) bool { return true })
	if line != "two" || next != 2 || err != nil {
		t.Fatalf("WaitLine from 1 = %q, %d, %v", line, next, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, _, err := p.WaitLine(ctx, 3, func(string) bool { return true }); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("waiting past the output: %v", err)
	}
}

// With SeparateStderr, stdout alone makes the lines.
func TestSeparateStderr(t *testing.T) {
	p := proctest.Start(t, exec.Command("sh", "-c", "echo noise >&2; echo '{}'"), proctest.Config{SeparateStderr: true})
	if err := p.Err(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := p.WaitLine(ctxT(t, 10*time.Second), 1, func(string) bool { return true }); !errors.Is(err, proctest.ErrEnded) {
		t.Fatalf("after the last line: %v, want ErrEnded", err)
	}
	if out := p.Output(); out != "{}" {
		t.Fatalf("stdout %q", out)
	}
	for deadline := time.Now().Add(10 * time.Second); p.Stderr() != "noise\n"; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("stderr %q", p.Stderr())
		}
	}
}

// A process that exits reports how; Signal reaches the process itself.
func TestExitAndSignal(t *testing.T) {
	p := proctest.Start(t, exec.Command("sh", "-c", "exit 3"), proctest.Config{})
	var ee *exec.ExitError
	if err := p.Err(); !errors.As(err, &ee) || ee.ExitCode() != 3 {
		t.Fatalf("exit 3: %v", err)
	}
	p = proctest.Start(t, exec.Command("sleep", "60"), proctest.Config{})
	if err := p.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.Exited():
	case <-time.After(10 * time.Second):
		t.Fatal("still running after SIGKILL")
	}
	if err := p.Err(); err == nil || !strings.Contains(err.Error(), "killed") {
		t.Fatalf("after SIGKILL: %v", err)
	}
}

// When the test ends the process group is stopped: a child the process
// started goes too.
func TestStopsGroup(t *testing.T) {
	var p *proctest.Process
	t.Run("run", func(t *testing.T) {
		p = proctest.Start(t, exec.Command("sh", "-c", "sleep 60 & echo $!; wait"), proctest.Config{StopSignal: syscall.SIGTERM})
		p.WaitFor(t, regexp.MustCompile(`^\d+$`), 10*time.Second)
	})
	select {
	case <-p.Exited():
	default:
		t.Fatal("the process outlived its test")
	}
	var child int
	for _, c := range p.Output() {
		child = child*10 + int(c-'0')
	}
	// Gone, or dead and waiting for its new parent to reap it.
	deadline := time.Now().Add(10 * time.Second)
	for {
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", child))
		if err != nil || strings.Contains(string(stat), ") Z ") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the process's child %d outlived the test: %s", child, stat)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestBuild(t *testing.T) {
	if err := proctest.Build(".", "-o", t.TempDir(), "./no-such-package"); err == nil || !strings.Contains(err.Error(), "no-such-package") {
		t.Fatalf("building a missing package: %v", err)
	}
}
