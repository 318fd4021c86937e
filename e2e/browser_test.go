package e2e

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/ipcord/ipcord/internal/leaktest"
)

// chromiumPath is where Debian's chromium package puts the browser.
const chromiumPath = "/usr/bin/chromium"

var screenshot = flag.String("screenshot", "", "also save the dashboard's screenshot here (e.g. ../docs/demo.png)")

func TestDashboardInBrowser(t *testing.T) {
	leaktest.Check(t)
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("the browser test needs Chromium at %s (apt-get install -y chromium): %v", chromiumPath, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Second)
	defer cancel()

	d := startProcess(t, "", []string{"DISCORD_TOKEN="}, ipcordBinary(t), "demo", "--guilds", "5", "--shards", "2", "--traffic", "4/s",
		"--dashboard-addr", "127.0.0.1:0", "--ipc-addr", "127.0.0.1:0", "--discovery-addr", "127.0.0.1:0", "--fake-addr", "127.0.0.1:0")
	dashboardURL := d.WaitFor(t, regexp.MustCompile(`dashboard +(http://127\.0\.0\.1:[0-9]+)`), 60*time.Second)[1]
	fakeURL := d.WaitFor(t, regexp.MustCompile(`fake Discord +REST (http://127\.0\.0\.1:[0-9]+)`), 10*time.Second)[1]

	actx, acancel := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("metrics-recording-only", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1200, 1000),
	)
	defer acancel()
	bctx, bcancel := chromedp.NewContext(actx)
	defer bcancel()

	// Live numbers from the bot: both shards READY and every guild counted,
	// with no reload of the page, and the fault buttons built from the
	// console's action list.
	live := `document.getElementById("guilds").textContent === "5" &&
		document.querySelectorAll("#shards .state-READY").length === 2 &&
		document.getElementById("channel").options.length === 5 &&
		document.getElementById("fault-reconnect") !== null`
	poll := func(expr string, timeout time.Duration) chromedp.Action[chromedp.Void] {
		return chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(timeout))
	}
	if err := chromedp.Do(bctx,
		chromedp.Navigate(dashboardURL),
		chromedp.WaitVisible(chromedp.ID("send")),
		poll(live, 30*time.Second),
	); err != nil {
		t.Fatalf("dashboard never showed live numbers: %v", err)
	}

	// The charts move: each has points, and what the events chart shows
	// changes from one second to the next.
	first, err := chromedp.Run(bctx, chromedp.Evaluate[string](`document.getElementById("chart-events").toDataURL()`))
	if err != nil {
		t.Fatal(err)
	}
	moved := fmt.Sprintf(`["chart-events", "chart-heartbeat", "chart-ipc"].every(id => Number(document.getElementById(id).dataset.points) >= 3) &&
		document.getElementById("chart-events").toDataURL() !== %q`, first)
	if err := chromedp.Do(bctx, poll(moved, 20*time.Second)); err != nil {
		t.Fatalf("the charts never moved: %v", err)
	}

	// A fault button: the fake tells shard 0 to reconnect, and the page
	// shows the shard resuming and the error feed saying so.
	recovered := `document.querySelector("#shard-0 .resumes").textContent === "1" &&
		document.querySelector("#shard-0 .state-READY") !== null &&
		[...document.querySelectorAll("#errors li.level-recovered")].some(li => li.textContent.includes("shard 0") && li.textContent.includes("resumed"))`
	if err := chromedp.Do(bctx,
		chromedp.Click(chromedp.ID("fault-reconnect")),
		poll(`document.getElementById("action-status").textContent === "injected reconnect on shard 0"`, 10*time.Second),
		poll(recovered, 30*time.Second),
	); err != nil {
		t.Fatalf("the reconnect button's recovery never showed: %v", err)
	}

	// "!ping" typed as a sample user: the bot answers, and its answer
	// comes back as an event (page → dashboard → fake's control API →
	// gateway → bot → REST → fake → gateway → bot → IPC → page).
	answered := `document.getElementById("pings").textContent === "1" &&
		[...document.querySelectorAll("#events li")].some(li => li.textContent.includes("pong! shard"))`
	if err := chromedp.Do(bctx,
		chromedp.SetValue(chromedp.ID("content"), "!ping"),
		chromedp.Click(chromedp.ID("send-btn")),
		poll(answered, 20*time.Second),
	); err != nil {
		t.Fatalf("!ping from the page was never answered: %v", err)
	}
	if !fakeReceived(ctx, fakeURL, "pong! shard") {
		t.Errorf("fake Discord never received the bot's answer")
	}
	// "/ping" runs the slash command as that user; the bot answers the
	// interaction the gateway brings.
	if err := chromedp.Do(bctx,
		chromedp.SetValue(chromedp.ID("content"), "/ping"),
		chromedp.Click(chromedp.ID("send-btn")),
		poll(`document.getElementById("answered").textContent === "1"`, 20*time.Second),
	); err != nil {
		t.Fatalf("/ping from the page was never answered: %v", err)
	}
	total1, err := chromedp.Run(bctx, chromedp.Text(chromedp.ID("total")))
	if err != nil {
		t.Fatal(err)
	}

	// Sent as the bot, through send_message over IPC.
	text := fmt.Sprintf("hello from the browser test %d", time.Now().UnixNano())
	came := fmt.Sprintf(`[...document.querySelectorAll("#events li")].some(li => li.textContent.includes(%q))`, text)
	if err := chromedp.Do(bctx,
		chromedp.SetValue(chromedp.ID("as"), "bot"),
		chromedp.SetValue(chromedp.ID("content"), text),
		chromedp.Click(chromedp.ID("send-btn")),
		poll(came, 20*time.Second),
	); err != nil {
		t.Fatalf("the message sent from the page never came back as an event: %v", err)
	}
	if !fakeReceived(ctx, fakeURL, text) {
		t.Errorf("fake Discord never received the message %q", text)
	}
	status, err := chromedp.Run(bctx, chromedp.Text(chromedp.ID("send-status")))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(status, "sent message ") {
		t.Errorf("send status %q", status)
	}
	if err := chromedp.Do(bctx, poll(fmt.Sprintf(`document.getElementById("total").textContent !== %q`, total1), 10*time.Second)); err != nil {
		t.Fatalf("the event count never moved from %s: %v", total1, err)
	}

	// "deploy a new version": generation 2 takes both shards from
	// generation 1 by handoff; the page shows each move, then both shards
	// in generation 2 with nothing lost, repeated or re-identified.
	deployed := `document.getElementById("deploy-status").textContent.startsWith("generation 2: 2 of 2 shards moved from generation 1 in ") &&
		document.getElementById("deploy-status").textContent.endsWith(": 0 lost, 0 repeated, 0 IDENTIFY") &&
		[...document.querySelectorAll("#shards tbody tr")].every(tr => tr.querySelector(".gen").textContent === "2" &&
			tr.querySelector(".lost").textContent === "0" && tr.querySelector(".repeated").textContent === "0" &&
			tr.querySelector(".identifies").textContent === "1") &&
		[0, 1].every(n => [...document.querySelectorAll("#errors li.level-action")].some(li => li.textContent.includes("shard " + n + " moved to generation 2")))`
	if err := chromedp.Do(bctx,
		chromedp.Click(chromedp.ID("deploy")),
		poll(deployed, 30*time.Second),
	); err != nil {
		status, _ := chromedp.Run(bctx, chromedp.Text(chromedp.ID("deploy-status")))
		t.Fatalf("the deploy never showed both shards moved with nothing lost (status %q): %v", status, err)
	}
	if n, _ := fakeSent(t, fakeURL); n != 2 {
		t.Errorf("fake Discord got %d IDENTIFYs, want the first 2 only", n)
	}

	if *screenshot != "" {
		// For the README, let the charts fill up first.
		if err := chromedp.Do(bctx, poll(`Number(document.getElementById("chart-events").dataset.points) >= 50`, 60*time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	png, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(png, []byte("\x89PNG")) {
		t.Fatalf("screenshot is not a PNG (%d bytes)", len(png))
	}
	out := filepath.Join(t.TempDir(), "demo.png")
	if *screenshot != "" {
		out = *screenshot
	}
	if err := os.WriteFile(out, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s (%d bytes)", out, len(png))
}

func sfmt(v uint64) string { return strconv.FormatUint(v, 10) }

// fakeReceived polls the fake's record of what clients sent (GET
// /_fake/sent) until it holds text, or ctx ends.
func fakeReceived(ctx context.Context, fakeURL, text string) bool {
	for ctx.Err() == nil {
		resp, err := http.Get(fakeURL + "/_fake/sent")
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if strings.Contains(string(body), text) {
				return true
			}
		}
		select {
		case <-ctx.Done():
		case <-time.After(100 * time.Millisecond):
		}
	}
	return false
}
