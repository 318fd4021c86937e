package clients

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
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

// botToken is a well-formed bot token for the fake's bot user
// (1000000000000000001): disgo and others read the bot's id from its first
// part, base64 of the id.
const botToken = "MTAwMDAwMDAwMDAwMDAwMDAwMQ.GZfake.ipcord-e2e-signature"

// bins holds the binaries TestMain builds: ipcord and the Go bots.
var bins string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "ipcord-e2e-clients")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bins = dir
	// ipcord is built in its own module (the repository root), the bots in
	// this one: two builds, side by side.
	builds := []*exec.Cmd{
		exec.Command("go", "build", "-o", filepath.Join(dir, "ipcord"), "./cmd/ipcord"),
		exec.Command("go", "build", "-o", dir, "./disgobot", "./arikawabot", "./discordgobot"),
	}
	builds[0].Dir = "../.."
	outs := make([]bytes.Buffer, len(builds))
	for i, b := range builds {
		b.Stdout, b.Stderr = &outs[i], &outs[i]
		if err := b.Start(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	for i, b := range builds {
		if err := b.Wait(); err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n%s", strings.Join(b.Args, " "), err, outs[i].Bytes())
			os.RemoveAll(dir)
			os.Exit(1)
		}
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// proc is a process the test started, in its own process group so a
// failing test kills all of it.
type proc struct {
	cmd    *exec.Cmd
	stderr bytes.Buffer
	mu     sync.Mutex
	lines  []string
	more   chan struct{} // closed and replaced on each line
	done   chan struct{}
}

func start(t *testing.T, cmd *exec.Cmd) *proc {
	t.Helper()
	p := &proc{cmd: cmd, more: make(chan struct{}), done: make(chan struct{})}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Stderr = &lockedWriter{w: &p.stderr, mu: &p.mu}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", cmd.Path, err)
	}
	go func() {
		sc := bufio.NewScanner(out)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			p.mu.Lock()
			p.lines = append(p.lines, sc.Text())
			close(p.more)
			p.more = make(chan struct{})
			p.mu.Unlock()
		}
		cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(5 * time.Second):
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-p.done
		}
		if t.Failed() {
			t.Logf("%s stdout:\n%s\nstderr:\n%s", filepath.Base(cmd.Path), p.output(), p.errOutput())
		}
	})
	return p
}

type lockedWriter struct {
	w  io.Writer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

func (p *proc) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.lines, "\n")
}

func (p *proc) errOutput() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.stderr.String()
	if len(s) > 8000 {
		s = "..." + s[len(s)-8000:]
	}
	return s
}

// waitLine returns the first line from index from on that match accepts,
// and the index after it.
func (p *proc) waitLine(ctx context.Context, from int, match func(string) bool) (string, int, error) {
	for {
		p.mu.Lock()
		lines, ch := p.lines, p.more
		p.mu.Unlock()
		for i := from; i < len(lines); i++ {
			if match(lines[i]) {
				return lines[i], i + 1, nil
			}
		}
		from = len(lines)
		select {
		case <-ch:
		case <-p.done:
			return "", from, fmt.Errorf("%s exited: %s", filepath.Base(p.cmd.Path), p.errOutput())
		case <-ctx.Done():
			return "", from, ctx.Err()
		}
	}
}

// fake is a running `ipcord fake` and its control API.
type fake struct {
	t    *testing.T
	base string
	info struct {
		BotID  string `json:"bot_id"`
		Guilds []struct {
			ID        string `json:"id"`
			Name      string `json:"name"`
			ChannelID string `json:"channel_id"`
		} `json:"guilds"`
		Users []struct {
			ID string `json:"id"`
		} `json:"users"`
	}
}

func startFake(t *testing.T, args ...string) *fake {
	t.Helper()
	args = append([]string{"fake", "--listen", "127.0.0.1:0", "--token", botToken, "--guilds", "3", "--heartbeat", "1s"}, args...)
	p := start(t, exec.Command(filepath.Join(bins, "ipcord"), args...))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rest := regexp.MustCompile(`REST +(http://[0-9.:]+)/api/v10`)
	line, _, err := p.waitLine(ctx, 0, rest.MatchString)
	if err != nil {
		t.Fatalf("ipcord fake printed no REST URL: %v", err)
	}
	f := &fake{t: t, base: rest.FindStringSubmatch(line)[1]}
	f.get("/_fake/", &f.info)
	if len(f.info.Guilds) != 3 || len(f.info.Users) == 0 {
		t.Fatalf("fake info %+v", f.info)
	}
	return f
}

func (f *fake) get(path string, v any) {
	f.t.Helper()
	resp, err := http.Get(f.base + path)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		f.t.Fatalf("GET %s: %v", path, err)
	}
}

// post sends a control request and returns the status and body.
func (f *fake) post(path string, body any) (int, []byte) {
	f.t.Helper()
	b, _ := json.Marshal(body)
	resp, err := http.Post(f.base+path, "application/json", bytes.NewReader(b))
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

// sent is GET /_fake/sent.
type sent struct {
	Gateway []struct {
		Conn     int             `json:"conn"`
		Listener string          `json:"listener"`
		Query    string          `json:"query"`
		Shard    int             `json:"shard"`
		Op       int             `json:"op"`
		D        json.RawMessage `json:"d"`
	} `json:"gateway"`
	REST []struct {
		Method string          `json:"method"`
		Path   string          `json:"path"`
		JSON   json.RawMessage `json:"json"`
	} `json:"rest"`
}

func (f *fake) sent() sent {
	var s sent
	f.get("/_fake/sent", &s)
	return s
}

// poll calls cond until it is true or ctx ends.
func poll(ctx context.Context, cond func() bool) bool {
	for {
		if cond() {
			return true
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(50 * time.Millisecond):
		}
	}
}
