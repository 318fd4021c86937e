package proctest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Config says how Start runs a process. The zero value reads stdout and
// stderr together as the lines, and stops the process with SIGINT when
// the test ends, killing it 10 s later.
type Config struct {
	// SeparateStderr keeps stderr out of the lines, for programs whose
	// stdout is a protocol (one JSON object a line); Stderr returns it.
	SeparateStderr bool
	// StopSignal goes to the process group when the test ends; SIGINT
	// when zero.
	StopSignal syscall.Signal
	// StopTimeout is how long the process may take to end after
	// StopSignal before it is killed and the test fails; 10 s when zero.
	StopTimeout time.Duration
}

// ErrEnded is returned by WaitLine when the process's output ends before
// a line matches.
var ErrEnded = errors.New("proctest: the process's output ended")

// stderrKept is how much of a separate stderr Stderr returns: its end,
// where the failure usually is.
const stderrKept = 8000

// Process is a program a test started with Start.
type Process struct {
	cmd     *exec.Cmd
	exited  chan struct{} // closed when the process has ended
	waitErr error         // cmd.Wait's result, set before exited is closed

	mu     sync.Mutex
	lines  []string
	stderr bytes.Buffer  // with SeparateStderr
	more   chan struct{} // closed and replaced when a line arrives or the output ends
	eof    bool
}

// Start starts cmd (its Path, Args, Dir and Env as the caller set them;
// Start sets its output and process group) and fails t if it cannot.
// When t ends, the process group gets cfg.StopSignal; a process still
// running cfg.StopTimeout later is killed and t fails. If t failed, the
// process's output is logged.
func Start(t testing.TB, cmd *exec.Cmd, cfg Config) *Process {
	t.Helper()
	if cfg.StopSignal == 0 {
		cfg.StopSignal = syscall.SIGINT
	}
	if cfg.StopTimeout == 0 {
		cfg.StopTimeout = 10 * time.Second
	}
	p := &Process{cmd: cmd, more: make(chan struct{}), exited: make(chan struct{})}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	// Pipes of our own, not cmd.StdoutPipe: Wait then returns when the
	// process ends, whoever else holds the pipes' write ends.
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = w, w
	var er, ew *os.File
	if cfg.SeparateStderr {
		if er, ew, err = os.Pipe(); err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = ew
	}
	err = cmd.Start()
	w.Close()
	if ew != nil {
		ew.Close()
	}
	if err != nil {
		r.Close()
		if er != nil {
			er.Close()
		}
		t.Fatalf("start %q: %v", cmd.Args, err)
	}
	go p.read(r)
	if er != nil {
		go func() {
			io.Copy(&lockedWriter{p}, er)
			er.Close()
		}()
	}
	go func() { p.waitErr = cmd.Wait(); close(p.exited) }()
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, cfg.StopSignal)
		select {
		case <-p.exited:
		case <-time.After(cfg.StopTimeout):
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-p.exited
			t.Errorf("%q did not stop on %v within %v", cmd.Args, cfg.StopSignal, cfg.StopTimeout)
		}
		if t.Failed() {
			t.Logf("%q output:\n%s", cmd.Args, p.Output())
			if cfg.SeparateStderr {
				t.Logf("%q stderr:\n%s", cmd.Args, p.Stderr())
			}
		}
	})
	return p
}

// read collects the lines of r until it ends.
func (p *Process) read(r *os.File) {
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		p.mu.Lock()
		p.lines = append(p.lines, sc.Text())
		close(p.more)
		p.more = make(chan struct{})
		p.mu.Unlock()
	}
	r.Close()
	p.mu.Lock()
	p.eof = true
	close(p.more)
	p.mu.Unlock()
}

type lockedWriter struct{ p *Process }

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.p.mu.Lock()
	defer l.p.mu.Unlock()
	return l.p.stderr.Write(b)
}

// Pid is the process's ID, which is also its process group's.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Args is the command line the process was started with.
func (p *Process) Args() []string { return p.cmd.Args }

// Signal sends sig to the process alone (not its group), as a supervisor
// stopping or killing one program would.
func (p *Process) Signal(sig syscall.Signal) error { return syscall.Kill(p.cmd.Process.Pid, sig) }

// Exited is closed when the process has ended.
func (p *Process) Exited() <-chan struct{} { return p.exited }

// Err waits for the process to end and returns how it ended
// (exec.Cmd.Wait's result: nil for exit status 0, an *exec.ExitError
// otherwise).
func (p *Process) Err() error {
	<-p.exited
	return p.waitErr
}

// Output returns every line the process printed so far.
func (p *Process) Output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.lines, "\n")
}

// Stderr returns the end of what the process wrote to stderr, with
// Config.SeparateStderr.
func (p *Process) Stderr() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.stderr.String()
	if len(s) > stderrKept {
		s = "..." + s[len(s)-stderrKept:]
	}
	return s
}

// WaitLine returns the first line, from index from on, that match
// accepts, and the index after it, to wait for the next one from there.
// It returns an error matching ErrEnded if the output ends first, or
// ctx's error.
func (p *Process) WaitLine(ctx context.Context, from int, match func(string) bool) (string, int, error) {
	for {
		p.mu.Lock()
		lines, eof, more := p.lines, p.eof, p.more
		p.mu.Unlock()
		for i := from; i < len(lines); i++ {
			if match(lines[i]) {
				return lines[i], i + 1, nil
			}
		}
		from = max(from, len(lines))
		if eof {
			return "", from, fmt.Errorf("%q: %w", p.cmd.Args, ErrEnded)
		}
		select {
		case <-more:
		case <-ctx.Done():
			return "", from, ctx.Err()
		}
	}
}

// WaitFor waits until a line matches re and returns its submatches; it
// fails t, with the output so far, when the output ends first or timeout
// passes.
func (p *Process) WaitFor(t testing.TB, re *regexp.Regexp, timeout time.Duration) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	line, _, err := p.WaitLine(ctx, 0, re.MatchString)
	switch {
	case errors.Is(err, ErrEnded):
		t.Fatalf("%q ended before printing a line matching %s:\n%s", p.cmd.Args, re, p.Output())
	case err != nil:
		t.Fatalf("%q printed no line matching %s in %v:\n%s", p.cmd.Args, re, timeout, p.Output())
	}
	return re.FindStringSubmatch(line)
}
