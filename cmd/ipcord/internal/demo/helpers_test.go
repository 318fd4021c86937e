package demo_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/ipcord/ipcord/cmd/ipcord/internal/demo"
	"github.com/ipcord/ipcord/rest"
)

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func startFake(t testing.TB, cfg demo.FakeConfig) *demo.Fake {
	t.Helper()
	f, err := demo.StartFake(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := f.Close(); err != nil {
			t.Errorf("fake close: %v", err)
		}
	})
	return f
}

// wsPayload is a gateway payload as the test client decodes it.
type wsPayload struct {
	Op int             `json:"op"`
	S  *int64          `json:"s"`
	T  string          `json:"t"`
	D  json.RawMessage `json:"d"`
}

// gwClient is a bare gateway client for tests of the fake: plain JSON, no
// compression, no heartbeats (the tests end long before the interval).
type gwClient struct {
	t  testing.TB
	ws *websocket.Conn
}

// identify connects as one shard and reads up to READY.
func identify(t testing.TB, ctx context.Context, url, token string, shard, shards int) *gwClient {
	t.Helper()
	ws, _, err := websocket.Dial(ctx, url+"?v=10&encoding=json", nil)
	if err != nil {
		t.Fatal(err)
	}
	ws.SetReadLimit(8 << 20)
	c := &gwClient{t: t, ws: ws}
	t.Cleanup(func() { ws.CloseNow() })
	if p := c.next(ctx); p.Op != 10 {
		t.Fatalf("first payload op %d, want HELLO", p.Op)
	}
	c.send(ctx, 2, map[string]any{
		"token": token, "intents": 1 | 1<<9, "shard": []int{shard, shards},
		"properties": map[string]string{"os": "linux", "browser": "test", "device": "test"},
	})
	c.waitFor(ctx, func(p wsPayload) bool { return p.T == "READY" })
	return c
}

func (c *gwClient) send(ctx context.Context, op int, d any) {
	b, _ := json.Marshal(map[string]any{"op": op, "d": d})
	if err := c.ws.Write(ctx, websocket.MessageText, b); err != nil {
		c.t.Fatal(err)
	}
}

func (c *gwClient) next(ctx context.Context) wsPayload {
	c.t.Helper()
	_, b, err := c.ws.Read(ctx)
	if err != nil {
		c.t.Fatalf("gateway read: %v", err)
	}
	var p wsPayload
	if err := json.Unmarshal(b, &p); err != nil {
		c.t.Fatalf("gateway payload %q: %v", b, err)
	}
	return p
}

// waitFor reads until a payload matches.
func (c *gwClient) waitFor(ctx context.Context, match func(wsPayload) bool) wsPayload {
	c.t.Helper()
	for {
		if p := c.next(ctx); match(p) {
			return p
		}
	}
}

// do sends a request and returns the status and body.
func do(t testing.TB, method, url, token string, body any) (int, []byte) {
	t.Helper()
	var r io.Reader
	if body != nil {
		switch b := body.(type) {
		case string:
			r = strings.NewReader(b)
		default:
			j, _ := json.Marshal(b)
			r = bytes.NewReader(j)
		}
	}
	req, err := http.NewRequest(method, url, r)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	switch {
	case strings.Contains(token, " "): // a whole header value, like "Bearer x"
		req.Header.Set("Authorization", token)
	case token != "":
		req.Header.Set("Authorization", "Bot "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

func mustJSON(t testing.TB, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("decoding %s: %v", b, err)
	}
}

func sfmt(v uint64) string { return fmt.Sprint(v) }

// fetch sends req with a fresh client and returns the body.
func fetch(req *http.Request) ([]byte, error) {
	cl := &http.Client{Transport: &http.Transport{}}
	defer cl.CloseIdleConnections()
	resp, err := cl.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	return io.ReadAll(resp.Body)
}

// restFor returns a REST client for f whose connections close with the test.
func restFor(t testing.TB, f *demo.Fake) *rest.Client {
	cl := &rest.Client{Token: "tok", BaseURL: f.APIURL(), HTTPClient: &http.Client{Transport: &http.Transport{}}}
	t.Cleanup(cl.HTTPClient.CloseIdleConnections)
	return cl
}
