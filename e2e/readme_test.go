package e2e

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
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

// TestREADME follows README.md line by line on a fresh clone of the
// repository's committed state, as a new user would: every shell command
// and Go snippet runs, in order, and prints what the README says it prints
// (readme_parse_test.go has the rules). Servers it starts (the demo, serve,
// fake, a NATS server) run as their own process groups, are probed, and are
// stopped by PID.
//
// The README's commands use their default ports, as a user's do; the test
// fails at once, naming the port, when one of them is taken.
func TestREADME(t *testing.T) {
	clone := freshClone(t)
	readme, err := os.ReadFile(filepath.Join(clone, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	steps, err := parseREADME(string(readme))
	if err != nil {
		t.Fatal(err)
	}
	if len(steps) < 10 {
		t.Fatalf("README.md has only %d steps", len(steps))
	}
	for _, port := range []string{"4222", "7878", "8080", "8081", "8765", "20000"} {
		if ln, err := net.Listen("tcp", "127.0.0.1:"+port); err != nil {
			t.Fatalf("port %s, which the README's commands use, is taken: %v", port, err)
		} else {
			ln.Close()
		}
	}
	if err := followSteps(t, clone, steps); err != nil {
		t.Fatal(err)
	}
}

// followSteps runs steps in a bash session in dir, and returns the first
// failure. The jobs it starts are interrupted when the test ends, if not
// before.
func followSteps(t *testing.T, dir string, steps []step) error {
	sh := startShell(t, dir)
	var untilC []*job // running "until Ctrl-C" steps
	for i, s := range steps {
		t.Logf("%v", s)
		var err error
		switch {
		case s.lang == "go":
			var j *job
			if j, err = sh.runGo(i, s); j != nil {
				untilC = append(untilC, j)
			}
		case s.bg || s.untilC:
			var j *job
			if j, err = sh.start(i, s, s.code); err == nil {
				err = j.ready(s)
			}
			if j != nil && s.untilC {
				untilC = append(untilC, j)
			}
		default:
			err = sh.run(i, s)
		}
		if err != nil {
			return fmt.Errorf("%v\n%v", s, err)
		}
		// Ctrl-C for the long-running steps whose time is up: at the end
		// of their block, or of the next when they ended theirs.
		if s.lastInB {
			kept := untilC[:0]
			for _, j := range untilC {
				if j.step.block == s.block && !j.step.lastInB || j.step.block < s.block {
					if err := j.interrupt(); err != nil {
						return fmt.Errorf("%v\n%v", j.step, err)
					}
					continue
				}
				kept = append(kept, j)
			}
			untilC = kept
		}
	}
	return nil
}

// freshClone clones the repository's committed state into a temporary
// directory.
func freshClone(t *testing.T) string {
	t.Helper()
	root, err := exec.Command("git", "rev-parse", "--show-toplevel").Output()
	if err != nil {
		t.Fatalf("the test needs the git repository: %v", err)
	}
	clone := filepath.Join(t.TempDir(), "ipcord")
	if out, err := exec.Command("git", "clone", "-q", strings.TrimSpace(string(root)), clone).CombinedOutput(); err != nil {
		t.Fatalf("git clone: %v %s", err, out)
	}
	return clone
}

// shell is one bash session the README's lines run in, with job control
// on so that every background job is a process group of its own.
type shell struct {
	t     *testing.T
	dir   string // the clone
	logs  string // where each step's output goes
	in    io.WriteCloser
	marks *bufio.Scanner // the session's own output: the markers
	jobs  []*job
}

// stepTimeout bounds one step; the first `go run` compiles the command,
// and `go test -race -run '^$' ./...` links every test binary.
const stepTimeout = 10 * time.Minute

func startShell(t *testing.T, dir string) *shell {
	cmd := exec.Command("bash", "--noprofile", "--norc")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "DISCORD_TOKEN=", "IPCORD_SECRET=", "IPCORD_PUBLIC_KEY=", "IPCORD_PRIVATE_KEY=")
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	// A session of its own: what the steps leave running is found by it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	shellLog, err := os.Create(filepath.Join(t.TempDir(), "shell.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer shellLog.Close()
	cmd.Stderr = shellLog // the shell's job notices, not a step's output
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sh := &shell{t: t, dir: dir, logs: t.TempDir(), in: in, marks: bufio.NewScanner(out)}
	t.Cleanup(func() {
		for i := len(sh.jobs) - 1; i >= 0; i-- {
			if err := sh.jobs[i].interrupt(); err != nil {
				t.Errorf("%v: %v", sh.jobs[i].step, err)
			}
		}
		in.Close()
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			// A step still in the foreground (one that timed out).
			killSession(cmd.Process.Pid)
			<-done
		}
		killSession(cmd.Process.Pid)
	})
	fmt.Fprintln(in, "set -m") // job control: each job its own process group
	return sh
}

// marker reads the session's output until a line starting with prefix.
func (sh *shell) marker(prefix string, timeout time.Duration) (string, error) {
	got := make(chan string, 1)
	go func() {
		for sh.marks.Scan() {
			if l := sh.marks.Text(); strings.HasPrefix(l, prefix) {
				got <- strings.TrimPrefix(l, prefix)
				return
			}
		}
		close(got)
	}()
	select {
	case m, ok := <-got:
		if !ok {
			return "", errors.New("the shell ended")
		}
		return m, nil
	case <-time.After(timeout):
		return "", fmt.Errorf("no end after %v: a command that keeps running must end in '&' or say 'until Ctrl-C'", timeout)
	}
}

func (sh *shell) logFile(i int) string { return filepath.Join(sh.logs, fmt.Sprintf("step%03d.log", i)) }

// run runs a foreground step and checks its exit status and output.
func (sh *shell) run(i int, s step) error {
	code := s.code
	if isGoTest(code) {
		code = strings.Replace(code, "go test", "go test -run '^$'", 1)
	}
	log := sh.logFile(i)
	fmt.Fprintf(sh.in, "{ %s\n} >%s 2>&1 </dev/null; echo \"__readme_exit__ $?\"\n", code, log)
	m, err := sh.marker("__readme_exit__ ", stepTimeout)
	if err != nil {
		return err
	}
	status, _ := strconv.Atoi(m)
	out, _ := os.ReadFile(log)
	if status != s.exit {
		return fmt.Errorf("exited %d, want %d; output:\n%s", status, s.exit, out)
	}
	return checkOutput(s, string(out))
}

func isGoTest(code string) bool {
	return regexp.MustCompile(`(^|[;&|(]\s*)go test\b`).MatchString(code)
}

func checkOutput(s step, out string) error {
	for k, re := range s.expect {
		if !re.MatchString(out) {
			return fmt.Errorf("the README says it prints %q; it printed:\n%s", s.texts[k], out)
		}
	}
	return nil
}

// job is a long-running step: a process group of its own.
type job struct {
	sh   *shell
	step step
	pid  int
	log  string
}

// start starts code as a background job of the session.
func (sh *shell) start(i int, s step, code string) (*job, error) {
	log := sh.logFile(i)
	fmt.Fprintf(sh.in, "%s >%s 2>&1 </dev/null &\necho \"__readme_pid__ $!\"\n", code, log)
	m, err := sh.marker("__readme_pid__ ", 10*time.Second)
	if err != nil {
		return nil, err
	}
	pid, err := strconv.Atoi(m)
	if err != nil {
		return nil, fmt.Errorf("no job started: %q", m)
	}
	j := &job{sh: sh, step: s, pid: pid, log: log}
	sh.jobs = append(sh.jobs, j) // interrupted when the test ends, if not before
	return j, nil
}

func (j *job) output() string { b, _ := os.ReadFile(j.log); return string(b) }

func (j *job) alive() bool { return syscall.Kill(j.pid, 0) == nil }

// ready waits until the job printed what the README says it prints (or
// anything, when it says nothing), then fetches every http:// URL of those
// texts, which must answer without a server error.
func (j *job) ready(s step) error {
	deadline := time.Now().Add(stepTimeout)
	for {
		out := j.output()
		ok := out != ""
		for _, re := range s.expect {
			ok = ok && re.MatchString(out)
		}
		if ok {
			break
		}
		if !j.alive() {
			return fmt.Errorf("ended before printing %q; output:\n%s", s.texts, out)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("did not print %q in %v; output:\n%s", s.texts, stepTimeout, out)
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, text := range s.texts {
		for _, u := range regexp.MustCompile(`https?://[^\s…]+`).FindAllString(text, -1) {
			resp, err := http.Get(u)
			if err != nil {
				return fmt.Errorf("probe %s: %v", u, err)
			}
			resp.Body.Close()
			// Any answer short of a server error shows a live HTTP
			// server; a POST-only route answers a GET 405.
			if resp.StatusCode >= 500 {
				return fmt.Errorf("probe %s: %s", u, resp.Status)
			}
		}
	}
	return nil
}

// interrupt sends Ctrl-C's SIGINT to the job's process group and waits
// for it to end; a job still there after 10 s is killed, and that is an
// error.
func (j *job) interrupt() error {
	if !j.alive() {
		return nil
	}
	syscall.Kill(-j.pid, syscall.SIGINT)
	deadline := time.Now().Add(10 * time.Second)
	for j.alive() {
		if time.Now().After(deadline) {
			syscall.Kill(-j.pid, syscall.SIGKILL)
			return fmt.Errorf("still running 10 s after Ctrl-C; output:\n%s", j.output())
		}
		time.Sleep(20 * time.Millisecond)
	}
	return nil
}

// runGo writes a Go snippet as a program under _readme/ in the clone (the
// go command's ./... skips directories starting with '_') and runs it
// from the session; one that runs until Ctrl-C is a job, returned.
func (sh *shell) runGo(i int, s step) (*job, error) {
	dir := filepath.Join(sh.dir, "_readme", fmt.Sprintf("snippet%03d", i))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(goProgram(s.code)), 0o644); err != nil {
		return nil, err
	}
	run := "go run ./_readme/" + filepath.Base(dir)
	if s.untilC {
		j, err := sh.start(i, s, run)
		if err != nil {
			return nil, err
		}
		return j, j.ready(s)
	}
	s.code = run
	return nil, sh.run(i, s)
}

// killSession kills, by PID, every process left in the session sid: the
// shell's and its steps'.
func killSession(sid int) {
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, f := range stats {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		// pid (comm) state ppid pgrp session ...; comm may hold spaces.
		rest := string(b[strings.LastIndexByte(string(b), ')')+1:])
		fields := strings.Fields(rest)
		if len(fields) < 4 {
			continue
		}
		if s, _ := strconv.Atoi(fields[3]); s == sid {
			pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(f)))
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}
