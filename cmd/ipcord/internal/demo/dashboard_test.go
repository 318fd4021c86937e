package demo_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/ipcord/ipcord/cmd/ipcord/internal/demo"
	"github.com/ipcord/ipcord/discordtest"
	"github.com/ipcord/ipcord/internal/leaktest"
)

func TestDashboardHandlers(t *testing.T) {
	leaktest.Check(t)
	ctx := testCtx(t)
	f := startFake(t, demo.FakeConfig{Token: "tok"})
	b := newTestBot(t, f, nil)
	_, c := serveBot(t, b)
	srv := httptest.NewServer(&demo.Dashboard{Bot: c})
	t.Cleanup(srv.Close)
	ch := sfmt(f.Guilds()[0].ChannelID)

	get := func(path string) (int, string) {
		code, body := do(t, "GET", srv.URL+path, "", nil)
		return code, string(body)
	}
	if code, body := get("/"); code != 200 || !strings.Contains(body, `id="send"`) || !strings.Contains(body, "/app.js") {
		t.Errorf("GET / = %d %.200s", code, body)
	}
	if code, body := get("/app.js"); code != 200 || !strings.Contains(body, "/api/stats") {
		t.Errorf("GET /app.js = %d", code)
	}
	// Without a fake (real Discord) there is nothing to inject faults into
	// or to type as: the page hides those, and the API says why.
	if code, body := get("/api/config"); code != 200 || !strings.Contains(body, `"fake":false`) {
		t.Errorf("GET /api/config = %d %s", code, body)
	}
	for _, path := range []string{"/api/fault", "/api/say"} {
		body := `{"name":"reconnect","shard":0}`
		if path == "/api/say" {
			body = `{"channel_id":"` + ch + `","content":"!ping"}`
		}
		if code, out := do(t, "POST", srv.URL+path, "", body); code != http.StatusNotImplemented || !strings.Contains(string(out), "real Discord") {
			t.Errorf("POST %s without a fake = %d %s", path, code, out)
		}
	}
	var st demo.Stats
	code, body := get("/api/stats")
	mustJSON(t, []byte(body), &st)
	if code != 200 || st.Guilds != 3 || len(st.Shards) != 2 {
		t.Errorf("GET /api/stats = %d %s", code, body)
	}
	if code, body := get("/api/guilds"); code != 200 || !strings.Contains(body, `"gophers"`) {
		t.Errorf("GET /api/guilds = %d %s", code, body)
	}
	var evs []demo.RecentEvent
	code, body = get("/api/events?after=2")
	mustJSON(t, []byte(body), &evs)
	if code != 200 || len(evs) != 2 || evs[0].N != 3 {
		t.Errorf("GET /api/events?after=2 = %d %s", code, body)
	}
	if code, _ := get("/api/events?after=-1"); code != http.StatusBadRequest {
		t.Errorf("GET /api/events?after=-1 = %d, want 400", code)
	}

	// JSON send.
	code, raw := do(t, "POST", srv.URL+"/api/send", "", demo.SendMessageArgs{ChannelID: ch, Content: "json hello"})
	var m demo.SentMessage
	mustJSON(t, raw, &m)
	if code != 200 || m.Content != "json hello" || m.ChannelID != ch {
		t.Errorf("POST /api/send (JSON) = %d %s", code, raw)
	}
	// Form send, as the page does without JavaScript: redirected back.
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noRedirect.PostForm(srv.URL+"/api/send", url.Values{"channel_id": {ch}, "content": {"form hello"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		t.Errorf("POST /api/send (form) = %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if _, err := f.REST().Wait(ctx, func(r discordtest.Request) bool { return strings.Contains(string(r.JSON), "form hello") }); err != nil {
		t.Error(err)
	}
	// The bot's own errors are the user's to fix.
	code, raw = do(t, "POST", srv.URL+"/api/send", "", demo.SendMessageArgs{ChannelID: "nope", Content: "x"})
	if code != http.StatusUnprocessableEntity || !strings.Contains(string(raw), demo.CodeBadChannel) {
		t.Errorf("POST /api/send with a bad channel = %d %s", code, raw)
	}
	if code, raw := do(t, "POST", srv.URL+"/api/send", "", "{"); code != http.StatusBadRequest {
		t.Errorf("POST /api/send with bad JSON = %d %s", code, raw)
	}
}

func TestDashboardWithoutBot(t *testing.T) {
	leaktest.Check(t)
	srv := httptest.NewServer(&demo.Dashboard{})
	t.Cleanup(srv.Close)
	resp, err := http.Get(srv.URL + "/api/stats")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadGateway || !strings.Contains(string(body), "error") {
		t.Errorf("stats without a bot = %d %s", resp.StatusCode, body)
	}
}
