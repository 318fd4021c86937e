package main

import (
	"context"
	"encoding/hex"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ipcord/ipcord/discordtest"
	"github.com/ipcord/ipcord/internal/leaktest"
)

// TestDemoCommand runs `ipcord demo` on port 0 everywhere and follows the
// three things it prints to try: the page, `ipcord call … stats`, and a
// signed interaction made with `ipcord sign`.
func TestDemoCommand(t *testing.T) {
	leaktest.Check(t)
	out, m := startCommand(t, regexp.MustCompile(`(?s)IPC server (ws://[0-9.:]+).*dashboard +(http://[0-9.:]+).*demo private key ([0-9a-f]{64}).*Ctrl-C`),
		"demo", "--dashboard-addr", "127.0.0.1:0", "--ipc-addr", "127.0.0.1:0", "--discovery-addr", "127.0.0.1:0", "--fake-addr", "127.0.0.1:0", "--traffic", "10/s")
	ipcURL, dashURL, priv := m[1], m[2], m[3]
	for _, want := range []string{"fake Discord  REST http://127.0.0.1:", "2 shard(s)", "routes: stats, guilds, events, send_message",
		dashURL + "/interactions, public key ", "go run ./cmd/ipcord call --url " + ipcURL + " --secret demo-secret stats",
		"go run ./cmd/ipcord sign --private-key " + priv} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}

	// 1. The page.
	resp, err := http.Get(dashURL)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(page), "ipcord demo") {
		t.Errorf("dashboard page %d", resp.StatusCode)
	}

	// 2. `ipcord call … stats`, until both shards are up.
	deadline := time.Now().Add(10 * time.Second)
	poll := time.NewTicker(20 * time.Millisecond)
	defer poll.Stop()
	var stats string
	for {
		e, o, errb := testEnv(nil)
		if code := runMain(context.Background(), e, []string{"call", "--url", ipcURL, "--secret", "demo-secret", "stats"}); code != 0 {
			t.Fatalf("call stats exited %d: %s", code, errb.String())
		}
		stats = o.String()
		if strings.Count(stats, `"state":"READY"`) == 2 && strings.Contains(stats, `"guilds":5,`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("stats never showed 2 READY shards and 5 guilds: %s", stats)
		}
		<-poll.C
	}

	// 2b. The same through discovery.
	dm := regexp.MustCompile(`call --discover ([0-9.:]+) `).FindStringSubmatch(out.String())
	if dm == nil {
		t.Fatalf("no discovery command in:\n%s", out.String())
	}
	{
		e, o, errb := testEnv(nil)
		if code := runMain(context.Background(), e, []string{"call", "--discover", dm[1], "--secret", "demo-secret", "guilds"}); code != 0 ||
			!strings.Contains(o.String(), `"name":"gophers"`) {
			t.Errorf("call --discover guilds: exit %d, %s %s", code, o.String(), errb.String())
		}
	}

	// 3. The signed curl: `ipcord sign` output as headers.
	e, o, errb := testEnv(nil)
	if code := runMain(context.Background(), e, []string{"sign", "--private-key", priv, "--body", samplePing}); code != 0 {
		t.Fatalf("sign exited %d: %s", code, errb.String())
	}
	req, _ := http.NewRequest("POST", dashURL+"/interactions", strings.NewReader(samplePing))
	req.Header.Set("Content-Type", "application/json")
	for _, line := range strings.Split(strings.TrimSpace(o.String()), "\n") {
		k, v, _ := strings.Cut(line, ": ")
		req.Header.Set(k, v)
	}
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "Pong, you!") {
		t.Errorf("signed interaction: %d %s", resp.StatusCode, body)
	}
	// And a request signed with another key is refused.
	other, _ := discordtest.NewSigner()
	bad, _ := other.NewRequest(context.Background(), dashURL+"/interactions", []byte(samplePing))
	if resp, err := http.DefaultClient.Do(bad); err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("request signed with another key: %v %v", resp.StatusCode, err)
	} else {
		resp.Body.Close()
	}
	if _, err := hex.DecodeString(priv); err != nil {
		t.Error(err)
	}
	http.DefaultClient.CloseIdleConnections()
}

func TestDemoCommandUsage(t *testing.T) {
	for _, args := range [][]string{{"demo", "--shards", "0"}, {"demo", "--traffic", "lots"}, {"demo", "extra"}} {
		e, _, errb := testEnv(nil)
		if code := runMain(context.Background(), e, args); code != 2 || !strings.Contains(errb.String(), "usage: ipcord demo") {
			t.Errorf("%q: exit %d, stderr %q", args, code, errb.String())
		}
	}
}
