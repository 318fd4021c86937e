package demo_test

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/ipcord/ipcord/cmd/ipcord/internal/demo"
	"github.com/ipcord/ipcord/discord"
	"github.com/ipcord/ipcord/discordtest"
	"github.com/ipcord/ipcord/gateway"
	"github.com/ipcord/ipcord/internal/leaktest"
	"github.com/ipcord/ipcord/ipc"
)

// startDemo starts the demo on port 0 everywhere and stops it when the
// test ends.
func startDemo(t *testing.T, cfg demo.Config) *demo.Demo {
	t.Helper()
	cfg.FakeAddr, cfg.GatewayAddr, cfg.ResumeAddr, cfg.IPCAddr, cfg.DiscoveryAddr, cfg.DashboardAddr = "", "", "", "", "", ""
	d, err := demo.Start(testCtx(t), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := d.Close(ctx); err != nil {
			t.Errorf("demo close: %v", err)
		}
	})
	return d
}

// TestDemoPartsWithoutShards checks the wiring that does not need the
// gateway: the IPC server, the dashboard as its client, and /interactions
// on the dashboard's listener with the printed demo key.
func TestDemoPartsWithoutShards(t *testing.T) {
	leaktest.Check(t)
	ctx := testCtx(t)
	d := startDemo(t, demo.Config{Traffic: -1, NewGateway: func(c demo.GatewayConfig) (demo.Gateway, error) {
		if c.Token == "" || c.Shards != 2 || c.Intents != gateway.IntentGuilds|gateway.IntentGuildMessages || c.Handler == nil {
			t.Errorf("gateway config %+v", c)
		}
		return &stubGateway{status: []demo.ShardStatus{{ID: 0, State: "READY"}, {ID: 1, State: "READY"}}}, nil
	}})
	in := d.Info
	if !strings.HasPrefix(in.DashboardURL, "http://127.0.0.1:") || !strings.HasPrefix(in.IPCURL, "ws://127.0.0.1:") ||
		in.InteractionsURL != in.DashboardURL+"/interactions" || len(in.PublicKey) != 64 || len(in.PrivateKey) != 64 {
		t.Fatalf("info %+v", in)
	}
	// Discovery lists the bot's server, as the Python libraries' multicast
	// port and `ipcord call --discover` expect.
	servers, err := ipc.Discover(ctx, ipc.DiscoverConfig{Addr: in.DiscoveryAddr, Secret: in.Secret})
	if err != nil || len(servers) != 1 || servers[0].Name != "demo-bot" || servers[0].URL != in.IPCURL {
		t.Errorf("discovery: %+v %v", servers, err)
	}
	if _, err := ipc.Discover(ctx, ipc.DiscoverConfig{Addr: in.DiscoveryAddr, Secret: "wrong"}); !errors.Is(err, ipc.ErrUnauthorized) {
		t.Errorf("discovery with a wrong secret: %v", err)
	}
	// A Python dashboard (discord-ext-ipc's wire format) reaches the same
	// routes on the same port.
	ws, _, err := websocket.Dial(ctx, in.IPCURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	if err := ws.Write(ctx, websocket.MessageText, []byte(`{"endpoint":"stats","data":{},"headers":{"Authorization":"`+in.Secret+`"}}`)); err != nil {
		t.Fatal(err)
	}
	if _, b, err := ws.Read(ctx); err != nil || !strings.HasPrefix(string(b), `{"guilds":0,`) {
		t.Errorf("ext-ipc stats: %s %v", b, err)
	}
	// A separate IPC client, as `ipcord call` would be.
	c, err := ipc.Dial(ctx, ipc.ClientConfig{URL: in.IPCURL, Secret: in.Secret, Identifier: "cli"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	st, err := ipc.CallAs[demo.Stats](ctx, c, demo.RouteStats, nil)
	if err != nil || len(st.Shards) != 2 {
		t.Errorf("stats %+v %v", st, err)
	}
	code, body := do(t, "GET", in.DashboardURL+"/api/stats", "", nil)
	if code != 200 || !strings.Contains(string(body), `"shards":[{"id":0`) {
		t.Errorf("dashboard stats %d %s", code, body)
	}
	// The printed private key signs requests the endpoint accepts.
	seed, _ := hex.DecodeString(in.PrivateKey)
	signer, err := discordtest.NewSignerFromKey(seed)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := signer.NewRequest(ctx, in.InteractionsURL, []byte(`{"id":"1300000000000000000","application_id":"1","type":2,"token":"t","version":1,"data":{"id":"1","name":"ping","type":1},"user":{"id":"42","username":"you"}}`))
	resp, err := fetch(req)
	if err != nil {
		t.Fatal(err)
	}
	var ir discord.InteractionResponse
	json.Unmarshal(resp, &ir)
	if ir.Data == nil || !strings.Contains(ir.Data.Content, "Pong, you!") {
		t.Errorf("interaction answer %s", resp)
	}
}

// failingGateway stops at once, as the shard manager does on close 4004.
type failingGateway struct{ stubGateway }

var errRefused = errors.New("shard 0: close 4004: authentication failed")

func (*failingGateway) Run(ctx context.Context) error { return errRefused }

func TestDemoReportsAGatewayThatGaveUp(t *testing.T) {
	leaktest.Check(t)
	d := startDemo(t, demo.Config{Traffic: -1, NewGateway: func(demo.GatewayConfig) (demo.Gateway, error) {
		return &failingGateway{}, nil
	}})
	select {
	case <-d.Done():
	case <-testCtx(t).Done():
		t.Fatal("Done never closed")
	}
	if !errors.Is(d.Err(), errRefused) {
		t.Errorf("Err() = %v", d.Err())
	}
}

// With a token the demo is meant for real Discord: no fake starts, the
// shards size themselves from Get Gateway Bot, and /interactions is served
// only with a public URL. (Nothing here reaches Discord: the gateway is a
// stub.)
func TestDemoWithTokenStartsNoFake(t *testing.T) {
	leaktest.Check(t)
	var got demo.GatewayConfig
	d := startDemo(t, demo.Config{Token: "real-token", NewGateway: func(c demo.GatewayConfig) (demo.Gateway, error) {
		got = c
		return &stubGateway{}, nil
	}})
	if d.Fake() != nil || d.Info.FakeURL != "" || d.Info.InteractionsURL != "" || d.Info.PrivateKey != "" {
		t.Errorf("info %+v", d.Info)
	}
	if got.Token != "real-token" || got.Shards != 0 || got.REST.BaseURL != "" {
		t.Errorf("gateway config: token %q, shards %d, REST %q", got.Token, got.Shards, got.REST.BaseURL)
	}
	if code, _ := do(t, "POST", d.Info.DashboardURL+"/interactions", "", "{}"); code != http.StatusNotFound && code != http.StatusMethodNotAllowed {
		t.Errorf("/interactions without --public-url: %d", code)
	}
}
