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
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()

	d := startProcess(t, "", []string{"DISCORD_TOKEN="}, ipcordBinary(t), "demo", "--guilds", "5", "--shards", "2", "--traffic", "4/s",
		"--dashboard-addr", "127.0.0.1:0", "--ipc-addr", "127.0.0.1:0", "--discovery-addr", "127.0.0.1:0", "--fake-addr", "127.0.0.1:0")
	dashboardURL := d.waitFor(t, regexp.MustCompile(`dashboard +(http://127\.0\.0\.1:[0-9]+)`), 60*time.Second)[1]
	fakeURL := d.waitFor(t, regexp.MustCompile(`fake Discord +REST (http://127\.0\.0\.1:[0-9]+)`), 10*time.Second)[1]

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
	// with no reload of the page.
	live := `document.getElementById("guilds").textContent === "5" &&
		document.querySelectorAll("#shards .state-READY").length === 2 &&
		document.getElementById("channel").options.length === 5`
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
	total1, err := chromedp.Run(bctx, chromedp.Text(chromedp.ID("total")))
	if err != nil {
		t.Fatal(err)
	}

	// Submit the form; the message goes dashboard → IPC → bot → REST →
	// fake Discord → gateway → bot → IPC → page.
	text := fmt.Sprintf("hello from the browser test %d", time.Now().UnixNano())
	came := fmt.Sprintf(`[...document.querySelectorAll("#events li")].some(li => li.textContent.includes(%q))`, text)
	if err := chromedp.Do(bctx,
		chromedp.SendKeys(chromedp.ID("content"), text),
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
