package clients

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ipcord/ipcord/internal/proctest"
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
	builds := [][]string{
		{"../..", "-o", filepath.Join(dir, "ipcord"), "./cmd/ipcord"},
		{".", "-o", dir, "./disgobot", "./arikawabot", "./discordgobot"},
	}
	errs := make([]error, len(builds))
	var wg sync.WaitGroup
	for i, b := range builds {
		wg.Go(func() { errs[i] = proctest.Build(b[0], b[1:]...) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// start runs cmd until the test ends, when its process group gets
// SIGTERM (SIGKILL 5 s later); its stdout lines are what it reports,
// stderr is kept apart for when the test fails.
func start(t *testing.T, cmd *exec.Cmd) *proctest.Process {
	t.Helper()
	return proctest.Start(t, cmd, proctest.Config{SeparateStderr: true, StopSignal: syscall.SIGTERM, StopTimeout: 5 * time.Second})
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
	line, _, err := p.WaitLine(ctx, 0, rest.MatchString)
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
