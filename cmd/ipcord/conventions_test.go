package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"net"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ipcord/ipcord/discord"
	"github.com/ipcord/ipcord/interactions"
	"github.com/ipcord/ipcord/internal/leaktest"
	"github.com/ipcord/ipcord/internal/syncbuf"
)

// The command line's conventions (issue 14): help on stdout with status
// 0, usage errors that say what is wrong first, one error prefix, failures
// to connect reported at once with what to change, consistent flags.

func TestHelpOnEveryCommand(t *testing.T) {
	if len(commands) < 10 {
		t.Fatalf("only %d commands registered", len(commands))
	}
	for name := range commands {
		for _, args := range [][]string{{name, "-h"}, {name, "--help"}, {"help", name}, {name, "x", "--help"}} {
			e, out, errb := testEnv(nil)
			code := runMain(context.Background(), e, args)
			if code != 0 || !strings.HasPrefix(out.String(), "usage: ipcord "+name) || errb.String() != "" {
				t.Errorf("%q: exit %d, stdout %.80q, stderr %q; want 0, the help on stdout, nothing on stderr", args, code, out, errb)
			}
		}
	}
	for _, args := range [][]string{{"-h"}, {"--help"}, {"help"}} {
		e, out, errb := testEnv(nil)
		if code := runMain(context.Background(), e, args); code != 0 || !strings.Contains(out.String(), "  serve ") || errb.String() != "" {
			t.Errorf("%q: exit %d, stdout %q, stderr %q", args, code, out, errb)
		}
	}
	e, out, errb := testEnv(nil)
	if code := runMain(context.Background(), e, nil); code != 2 || out.String() != "" || !strings.HasPrefix(errb.String(), "ipcord: missing command\n") {
		t.Errorf("no command: exit %d, stdout %q, stderr %q", code, out, errb)
	}
}

// A usage error is "ipcord CMD: what is wrong", a blank line, then the
// usage, on stderr, with status 2.
func TestUsageErrorsSayWhatIsWrong(t *testing.T) {
	for _, tt := range []struct {
		args []string
		why  string
	}{
		{[]string{"call", "--secret", "s"}, "missing ROUTE"},
		{[]string{"call", "--nope", "ping"}, "flag provided but not defined: -nope"},
		{[]string{"call", "--timeout", "soon", "ping"}, `invalid value "soon" for flag -timeout`},
		{[]string{"call", "--all", "ping"}, "--all and --cluster need --nats URL"},
		{[]string{"bench", "--n", "0"}, "--n 0: want 1 to 10,000,000 calls"},
		{[]string{"bench", "--interval", "-1s"}, "--interval -1s: want 0 or more"},
		{[]string{"bench", "--args", "{"}, "--args is not valid JSON"},
		{[]string{"bench", "ping"}, `unexpected argument "ping" (the route is --route)`},
		{[]string{"serve", "--nats", "nats://127.0.0.1:1"}, "--nats needs --cluster NAME"},
		{[]string{"fake", "--shards", "0"}, "--shards 0: want at least 1"},
		{[]string{"fake", "--traffic", "fast"}, "fast"},
		{[]string{"demo", "--guilds", "0"}, "--guilds 0: want at least 1"},
		{[]string{"interactions"}, "no public key: pass --public-key HEX or set IPCORD_PUBLIC_KEY"},
		{[]string{"sign", "--body", "{}"}, "no private key: pass --private-key HEX or set IPCORD_PRIVATE_KEY"},
		{[]string{"keygen", "extra"}, `unexpected argument "extra"`},
		{[]string{"commands", "--file", "f.json"}, "missing the subcommand: sync"},
		{[]string{"version", "--short"}, "flag provided but not defined: -short"},
	} {
		e, out, errb := testEnv(nil)
		code := runMain(context.Background(), e, tt.args)
		prefix := "ipcord " + tt.args[0] + ": "
		first, rest, _ := strings.Cut(errb.String(), "\n")
		if code != 2 || out.String() != "" || !strings.HasPrefix(first, prefix) || !strings.Contains(first, tt.why) ||
			!strings.HasPrefix(rest, "\nusage: ipcord "+tt.args[0]) {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want 2 and %q on the first line, then the usage", tt.args, code, out, errb, prefix+tt.why)
		}
	}
}

// closedPort returns a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// A refused connection fails at once, long before --timeout, naming the
// address and what to change.
func TestRefusedConnectionFailsAtOnce(t *testing.T) {
	leaktest.Check(t)
	addr := closedPort(t)
	for _, args := range [][]string{
		{"call", "--url", "ws://" + addr, "ping"},
		{"routes", "--url", "ws://" + addr},
		{"bench", "--url", "ws://" + addr, "--n", "1"},
		{"call", "--discover", addr, "ping"},
		{"call", "--url", "ws://" + addr, "--dialect", "ext-ipc", "ping"},
		{"call", "--url", "ws://" + addr, "--dialect", "zonis", "ping"},
		{"call", "--discover", addr, "--dialect", "better-ipc-multicast", "ping"},
	} {
		args = append(args, "--secret", "s", "--timeout", "30s")
		e, _, errb := testEnv(nil)
		start := time.Now()
		code := runMain(context.Background(), e, args)
		took := time.Since(start)
		msg := errb.String()
		if code != 1 || took > 10*time.Second || !strings.HasPrefix(msg, "ipcord "+args[0]+": ") || !strings.Contains(msg, addr) || !strings.Contains(msg, "refused") {
			t.Errorf("%q: exit %d after %v, stderr %q; want 1 at once, naming %s and the refusal", args, code, took, msg, addr)
		}
		for _, hint := range []string{"--url", "--discover", "wss://", "--ca"} {
			if !strings.Contains(msg, hint) {
				t.Errorf("%q: the hint lacks %s: %q", args, hint, msg)
			}
		}
	}
	e, _, errb := testEnv(nil)
	if code := runMain(context.Background(), e, []string{"call", "--nats", "nats://" + addr, "ping"}); code != 1 ||
		!strings.Contains(errb.String(), addr) || !strings.Contains(errb.String(), "go run github.com/nats-io/nats-server/v2@"+natsServerVersion) {
		t.Errorf("call --nats to nothing: exit %d, stderr %q; want the address and how to start NATS", code, errb)
	}
}

// wss:// to a server without TLS says so.
func TestPlainServerOverWSS(t *testing.T) {
	leaktest.Check(t)
	url := startServe(t, serveURL)[1]
	e, _, errb := testEnv(nil)
	code := runMain(context.Background(), e, []string{"call", "--url", strings.Replace(url, "ws://", "wss://", 1), "--secret", "s3", "--timeout", "1s", "ping"})
	if code != 1 || !strings.Contains(errb.String(), "does not speak TLS there: use ws://") {
		t.Errorf("exit %d, stderr %q", code, errb)
	}
}

func TestUnauthorizedSaysTheSecretWasRefused(t *testing.T) {
	leaktest.Check(t)
	url := startServe(t, serveURL)[1]
	for _, cmd := range []string{"call", "routes", "bench"} {
		args := []string{cmd, "--url", url, "--secret", "wrong"}
		if cmd == "call" {
			args = append(args, "ping")
		}
		e, _, errb := testEnv(nil)
		want := "ipcord " + cmd + ": unauthorized: " + url + " refused the secret (give the server's with --secret or IPCORD_SECRET)\n"
		if code := runMain(context.Background(), e, args); code != 1 || errb.String() != want {
			t.Errorf("%q: exit %d, stderr %q; want %q", args, code, errb, want)
		}
	}
}

// A failed call is "ipcord call: code: message".
func TestCallErrorPrefix(t *testing.T) {
	leaktest.Check(t)
	url := startServe(t, serveURL)[1]
	e, _, errb := testEnv(nil)
	want := "ipcord call: handler_error: this route always fails\n"
	if code := runMain(context.Background(), e, []string{"call", "--url", url, "--secret", "s3", "fail"}); code != 1 || errb.String() != want {
		t.Errorf("exit %d, stderr %q; want %q", code, errb, want)
	}
}

func TestBenchReportsFailuresByCode(t *testing.T) {
	leaktest.Check(t)
	url := startServe(t, serveURL)[1]
	e, out, errb := testEnv(nil)
	code := runMain(context.Background(), e, []string{"bench", "--url", url, "--secret", "s3", "--route", "fail", "--n", "50", "--concurrency", "4"})
	if code != 1 || !strings.Contains(out.String(), "errors: 50 (handler_error 50)") || errb.String() != "ipcord bench: 50 of 50 calls failed\n" {
		t.Fatalf("exit %d, stdout %q, stderr %q; want 1, the errors by code, and the count on stderr", code, out, errb)
	}
	if !regexp.MustCompile(`p50 [0-9.]+ (ns|µs|ms|s), p99 [0-9.]+ (ns|µs|ms|s)\n`).MatchString(out.String()) {
		t.Fatalf("latencies without units: %q", out)
	}
}

func TestBenchSaysMaxDurationCutItShort(t *testing.T) {
	leaktest.Check(t)
	url := startServe(t, serveURL)[1]
	e, out, errb := testEnv(nil)
	code := runMain(context.Background(), e, []string{"bench", "--url", url, "--secret", "s3", "--route", "sleep", "--args", `{"ms":100}`,
		"--n", "1000", "--concurrency", "2", "--max-duration", "300ms", "--json"})
	var r benchReport
	if err := json.Unmarshal([]byte(out.String()), &r); err != nil {
		t.Fatalf("%v: %q", err, out)
	}
	if code != 1 || r.CutShort != "max-duration" || r.Errors != 0 || r.Requests == 0 || r.Requests >= 1000 ||
		!strings.Contains(errb.String(), "ipcord bench: --max-duration 300ms cut the run short: ") {
		t.Fatalf("exit %d, report %+v, stderr %q; want 1, cut_short, no errors (calls cut off are not failures)", code, r, errb)
	}
}

func TestBenchUnitsAndProgress(t *testing.T) {
	for us, want := range map[float64]string{0.812: "812 ns", 41.57: "41.6 µs", 999.4: "999 µs", 1234: "1.23 ms", 2_500_000: "2.50 s", 5: "5.00 µs"} {
		if got := microseconds(us); got != want {
			t.Errorf("microseconds(%v) = %q, want %q", us, got, want)
		}
	}
	b := &benchRun{n: 10}
	b.made.Store(4)
	b.failed.Store(1)
	var w syncbuf.Buffer
	stop := b.showProgress(&w, time.Millisecond)
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(w.String(), "4/10 calls, 1 failed") && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	stop()
	if s := w.String(); !strings.Contains(s, "\r\033[K4/10 calls, 1 failed, ") || !strings.HasSuffix(s, "\r\033[K") {
		t.Fatalf("progress %q: want a line rewritten in place, cleared at the end", s)
	}
	if isTerminal(&bytes.Buffer{}) {
		t.Fatal("a buffer is not a terminal")
	}
}

// Flags mean one thing everywhere: a listener's address is --addr (or
// --X-addr), the secret defaults to IPCORD_SECRET, keys to IPCORD_*_KEY.
func TestConsistentFlags(t *testing.T) {
	help := func(name string) string {
		e, out, _ := testEnv(nil)
		runMain(context.Background(), e, []string{name, "-h"})
		return out.String()
	}
	for _, name := range []string{"serve", "fake", "interactions"} {
		if !strings.Contains(help(name), "\n  -addr string\n") {
			t.Errorf("ipcord %s has no --addr", name)
		}
	}
	for _, name := range []string{"serve", "call", "routes", "bench", "demo"} {
		if !regexp.MustCompile(`-secret string\n.*\$IPCORD_SECRET`).MatchString(help(name)) {
			t.Errorf("ipcord %s: --secret does not default to $IPCORD_SECRET", name)
		}
	}
	for name, key := range map[string]string{"interactions": "IPCORD_PUBLIC_KEY", "demo": "IPCORD_PUBLIC_KEY", "sign": "IPCORD_PRIVATE_KEY"} {
		if !strings.Contains(help(name), "$"+key) {
			t.Errorf("ipcord %s: its key flag does not say it defaults to $%s", name, key)
		}
	}
	// Every flag name is lower-case words joined by '-'.
	ok := regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
	for name := range commands {
		for _, m := range regexp.MustCompile(`(?m)^  -(\S+)`).FindAllStringSubmatch(help(name), -1) {
			if !ok.MatchString(m[1]) {
				t.Errorf("ipcord %s: flag --%s", name, m[1])
			}
		}
	}
}

func TestInteractionsHelpListsCommandsAndKeys(t *testing.T) {
	e, out, _ := testEnv(nil)
	runMain(context.Background(), e, []string{"interactions", "-h"})
	for _, want := range []string{"/ping", "/fruit", "/slow", "ipcord keygen", "ipcord sign", "Developer Portal"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("help lacks %q:\n%s", want, out)
		}
	}
	// The commands the help lists are the ones served.
	listed := regexp.MustCompile(`(?m)^  /([a-z]+) `).FindAllStringSubmatch(out.String(), -1)
	var names []string
	for _, m := range listed {
		names = append(names, m[1])
	}
	if !slices.Equal(names, []string{"ping", "fruit", "slow"}) {
		t.Fatalf("help lists %v", names)
	}
	pub, _, _ := ed25519.GenerateKey(nil)
	ep, err := interactions.New(interactions.Config{PublicKey: hex.EncodeToString(pub)})
	if err != nil {
		t.Fatal(err)
	}
	if err := registerSample(ep, time.Second); err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		if _, ok := ep.Lookup(interactions.Key{Type: discord.InteractionApplicationCommand, Name: name}); !ok {
			t.Errorf("the help lists /%s, which the sample does not serve", name)
		}
	}
}
