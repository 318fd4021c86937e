package ipc_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ipcord/ipcord/internal/leaktest"
	"github.com/ipcord/ipcord/ipc"
)

// These tests run the real aiohttp (Debian's python3-aiohttp, which .ci/run
// installs) as the peer, where aiohttp's own behaviour is what matters:
// discord-ext-ipc and discord-ext-ipcx leave its WebSocket defaults as they
// are. The peer is testdata/aiohttp/peer.py. They never skip: without
// Debian's python3 and aiohttp they fail, saying so.

// debianPython is Debian's interpreter, where apt puts python3-aiohttp (a
// python3 earlier on PATH, such as pyenv's, does not see it).
const debianPython = "/usr/bin/python3"

func requireAiohttp(t *testing.T) {
	t.Helper()
	out, err := exec.Command(debianPython, "-c", "import aiohttp; print(aiohttp.__version__)").CombinedOutput()
	if err != nil {
		t.Fatalf("these tests need Debian's python3-aiohttp (apt-get install python3-aiohttp; .ci/run installs it): %v\n%s", err, out)
	}
}

// aiohttpServer runs peer.py's server and returns its ws:// URL; heartbeat
// (seconds, 0 for aiohttp's default of none) makes it ping.
func aiohttpServer(t *testing.T, heartbeat string) string {
	t.Helper()
	requireAiohttp(t)
	args := []string{"testdata/aiohttp/peer.py", "server"}
	if heartbeat != "" {
		args = append(args, heartbeat)
	}
	cmd := exec.Command(debianPython, args...)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close() // peer.py serves until its stdin closes
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	line := make(chan string, 1)
	go func() {
		l, _ := bufio.NewReader(stdout).ReadString('\n')
		line <- l
		io.Copy(io.Discard, stdout)
	}()
	var hello struct{ Port int }
	select {
	case l := <-line:
		if err := json.Unmarshal([]byte(l), &hello); err != nil || hello.Port == 0 {
			t.Fatalf("peer.py server said %q: %v", l, err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("peer.py server did not start")
	}
	return "ws://127.0.0.1:" + strconv.Itoa(hello.Port) + "/"
}

// proxy forwards connections to target through a watchListener, so a test
// sees the bytes each way: read is what the client sent, written what it
// received.
func proxy(t *testing.T, target string) (string, *watchListener) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	wl := &watchListener{Listener: ln}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	wg.Go(func() {
		for {
			c, err := wl.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", strings.TrimSuffix(strings.TrimPrefix(target, "ws://"), "/"))
			if err != nil {
				c.Close()
				continue
			}
			mu.Lock()
			conns = append(conns, c, s)
			mu.Unlock()
			wg.Go(func() { io.Copy(s, c); s.(*net.TCPConn).CloseWrite() })
			wg.Go(func() { io.Copy(c, s); c.Close() })
		}
	})
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return "ws://" + ln.Addr().String() + "/", wl
}

type aiohttpLog struct {
	Offers   []string
	Compress []int
	Ended    []struct {
		First string
		Close *int
	}
	Connections int
}

func readAiohttpLog(t *testing.T, ctx context.Context, u string) aiohttpLog {
	t.Helper()
	c := dial(t, ipc.ClientConfig{URL: u, Dialect: ipc.ExtIPC})
	defer c.Close()
	l, err := ipc.CallAs[aiohttpLog](ctx, c, "log", nil)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// aiohttp's client, with compress=15 as a dashboard may set it, offers
// permessage-deflate: our server accepts it, and messages go compressed
// both ways. json.dumps's NaN and Infinity arrive as floats, and a route
// echoing them sends them back.
func TestAiohttpClientToServer(t *testing.T) {
	leaktest.Check(t)
	requireAiohttp(t)
	r := dialectRouter(t, nil)
	item := strings.Repeat("guild member ", 8)
	r.HandleFunc("big", func(ctx context.Context, req *ipc.Request) (any, error) {
		list := make([]string, 8000)
		for i := range list {
			list[i] = item
		}
		return list, nil
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	wl := &watchListener{Listener: ln}
	u := serveOn(t, &ipc.Server{Router: r, Secret: secret}, wl)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, debianPython, "testdata/aiohttp/peer.py", "client", u, secret).Output()
	if err != nil {
		t.Fatalf("peer.py client: %v\n%s", err, out)
	}
	var got struct {
		Answer    string
		Compress  int
		BigItems  int `json:"big_items"`
		Floats    []string
		NaNEcho   any  `json:"nan_echo"`
		EchoOK    bool `json:"echo_ok"`
		CloseCode int  `json:"close_code"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("peer.py client said %q: %v", out, err)
	}
	t.Logf("aiohttp client: %s", out)
	if !strings.HasPrefix(got.Answer, "permessage-deflate") || got.Compress != 15 {
		t.Errorf("aiohttp's offer was not accepted: answer %q, compress %d", got.Answer, got.Compress)
	}
	if got.BigItems != 8000 || !got.EchoOK || got.CloseCode != 1000 {
		t.Errorf("exchange: %+v", got)
	}
	if want := []string{"NaN", "+Inf", "-Inf", "[1]"}; !slices.Equal(got.Floats, want) {
		t.Errorf("floats: %v, want %v", got.Floats, want)
	}
	if echo := fmt.Sprint(got.NaNEcho); echo != "[nan [inf -inf]]" {
		t.Errorf("echo of NaN and the infinities: %s", echo)
	}
	// The 835 KB reply and the 256 KiB request each crossed the wire in a
	// small fraction of their size.
	if w, rd := wl.written.Load(), wl.read.Load(); w > 100<<10 || rd > 64<<10 {
		t.Errorf("%d bytes written, %d read: not compressed", w, rd)
	}
}

// Our ext-ipc client against aiohttp's server at its defaults
// (web.WebSocketResponse()): aiohttp accepts our permessage-deflate offer;
// its NaN and Infinity decode; its 4 MiB max_msg_size is ours too, and
// past it aiohttp closes with 1009; it answers one request per connection
// and closes as ipcx does; with a heartbeat, it pings and we answer.
func TestAiohttpServerToClient(t *testing.T) {
	leaktest.Check(t)
	ctx := ctxTimeout(t, 60*time.Second)

	t.Run("compression", func(t *testing.T) {
		u, wl := proxy(t, aiohttpServer(t, ""))
		c := dial(t, ipc.ClientConfig{URL: u, Dialect: ipc.ExtIPC})
		big, err := ipc.CallAs[[]string](ctx, c, "big", nil)
		if err != nil || len(big) != 8000 {
			t.Fatalf("big: %d items, %v", len(big), err)
		}
		pad := strings.Repeat("guild member ", (1<<20)/13)
		size, err := ipc.CallAs[struct{ Len int }](ctx, c, "size", map[string]string{"pad": pad})
		if err != nil || size.Len < len(pad) {
			t.Fatalf("size: %+v %v", size, err)
		}
		l := readAiohttpLog(t, ctx, u)
		if !strings.Contains(l.Offers[0], "permessage-deflate") || l.Compress[0] != 15 {
			t.Fatalf("aiohttp did not take our offer: %+v", l)
		}
		if w, rd := wl.written.Load(), wl.read.Load(); w > 100<<10 || rd > 100<<10 {
			t.Fatalf("%d bytes received, %d sent for an 835 KB reply and a 1 MiB request: not compressed", w, rd)
		}
	})

	t.Run("NaN", func(t *testing.T) {
		c := dial(t, ipc.ClientConfig{URL: aiohttpServer(t, ""), Dialect: ipc.ExtIPC})
		got, err := ipc.CallAs[struct{ Ratio, Max, Min float64 }](ctx, c, "nan", nil)
		if err != nil || !math.IsNaN(got.Ratio) || !math.IsInf(got.Max, 1) || !math.IsInf(got.Min, -1) {
			t.Fatalf("got %+v, %v", got, err)
		}
	})

	t.Run("4 MiB", func(t *testing.T) {
		u := aiohttpServer(t, "")
		// Sizes as sent: compression would hide them from aiohttp's limit
		// (which bounds the message decompressed) no more than from ours.
		off := &ipc.Compression{}
		c := dial(t, ipc.ClientConfig{URL: u, Dialect: ipc.ExtIPC, DialectCompression: off})
		frame := func(n int) map[string]string { return map[string]string{"pad": strings.Repeat("x", n)} }
		const overhead = 80 // the request's envelope around pad
		got, err := ipc.CallAs[struct{ Len int }](ctx, c, "size", frame(4<<20-overhead-1024))
		if err != nil || got.Len < 4<<20-overhead-1024 {
			t.Fatalf("just under 4 MiB: %+v %v", got, err)
		}
		if err := c.Call(ctx, "size", frame(4<<20), nil); !errors.Is(err, ipc.ErrTooLarge) {
			t.Fatalf("over 4 MiB: %v, want ErrTooLarge before sending", err)
		}
		// A client told aiohttp takes more learns otherwise: 1009.
		loose := dial(t, ipc.ClientConfig{URL: u, Dialect: ipc.ExtIPC, DialectCompression: off, MaxMessage: 8 << 20})
		// aiohttp refuses it with a close 1009; when that lands while we
		// are still writing, what we see is a reset.
		err = loose.Call(ctx, "size", frame(5<<20), nil)
		var ce *ipc.CloseError
		closed := errors.As(err, &ce) && ce.Code == 1009
		reset := errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
		if !errors.Is(err, ipc.ErrConnectionLost) || !(closed || reset) {
			t.Fatalf("5 MiB to aiohttp: %v, want the connection lost (1009, or reset mid-write)", err)
		}
	})

	t.Run("close and ping", func(t *testing.T) {
		// A ping every second; no pong within half of that and aiohttp
		// drops the connection (1006). Generous: the machine is loaded.
		u := aiohttpServer(t, "1")
		ended := func(first string) []string {
			var codes []string
			for _, e := range readAiohttpLog(t, ctx, u).Ended {
				if e.First == first {
					codes = append(codes, fmtCode(e.Close))
				}
			}
			return codes
		}
		a := dial(t, ipc.ClientConfig{URL: u, Dialect: ipc.ExtIPC})
		if err := a.Call(ctx, "size", nil, nil); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2500 * time.Millisecond) // two pings, answered
		if err := a.Call(ctx, "size", nil, nil); err != nil {
			t.Fatal(err)
		}
		a.Close()
		// One connection, through the pings, ended by our close, answered.
		waitFor(t, 10*time.Second, "aiohttp to see our close", func() bool { return len(ended("size")) > 0 })
		if got := ended("size"); !slices.Equal(got, []string{"1000"}) {
			t.Fatalf("connections of the two calls ended with %v, want one, 1000", got)
		}

		// ipcx's server closes after each reply; we answer its close, and
		// the next call reconnects.
		b := dial(t, ipc.ClientConfig{URL: u, Dialect: ipc.ExtIPC, MinBackoff: time.Millisecond})
		var ok string
		if err := b.Call(ctx, "ipcx", nil, &ok); err != nil || ok != "ok" {
			t.Fatalf("ipcx: %q %v", ok, err)
		}
		waitFor(t, 10*time.Second, "aiohttp's close to end", func() bool { return len(ended("ipcx")) > 0 })
		if got := ended("ipcx"); !slices.Equal(got, []string{"1000"}) {
			t.Fatalf("aiohttp's close ended with %v, want 1000", got)
		}
		if err := b.Call(ctx, "ipcx", nil, &ok); err != nil || ok != "ok" {
			t.Fatalf("ipcx, again: %q %v", ok, err)
		}
	})
}

func fmtCode(c *int) string {
	if c == nil {
		return "none"
	}
	return strconv.Itoa(*c)
}
