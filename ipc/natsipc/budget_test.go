package natsipc_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/ipcord/ipcord/discord"
	"github.com/ipcord/ipcord/discordtest"
	"github.com/ipcord/ipcord/gateway"
	"github.com/ipcord/ipcord/gateway/shard"
	"github.com/ipcord/ipcord/internal/leaktest"
	"github.com/ipcord/ipcord/internal/syncbuf"
	"github.com/ipcord/ipcord/ipc/natsipc"
	"github.com/ipcord/ipcord/rest"
	"github.com/nats-io/nats.go/jetstream"
)

// Two processes of one bot, each guarding its own copy of the budget, may
// together spend it below the reserve: both see 4 starts left, keep 2, and
// spend 2 each. Sharing it through key-value (the Managers' own guards
// off here, so every refusal is the fleet's), the fleet as a whole spends
// exactly 2: the other shards are refused with an *IdentifyBudgetError and
// a warning saying when the budget resets, again at each retry.
func TestIdentifyLimiterSharesTheBudget(t *testing.T) {
	leaktest.Check(t)
	const shards, left, reserve = 6, 4, 2
	ns := startServer(t, 0, "")
	srv, err := discordtest.NewServer(&discordtest.ServerOptions{Token: "token", GatewayBot: discord.GatewayBot{
		Shards:            shards,
		SessionStartLimit: discord.SessionStartLimit{Total: 1000, Remaining: left, ResetAfter: 3_600_000, MaxConcurrency: shards},
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	g := &discordtest.Gateway{HeartbeatInterval: time.Second, Shards: shards, MaxConcurrency: shards, SessionStarts: srv}
	if err := g.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Close() })
	gb := srv.GatewayBot()
	gb.URL = g.URL()
	srv.SetGatewayBot(gb)

	// A copy of the budget that does not decode is replaced by what Get
	// Gateway Bot says, not a reason to refuse every IDENTIFY.
	js, err := jetstream.New(connect(t, ns.ClientURL()))
	if err != nil {
		t.Fatal(err)
	}
	kv, err := js.CreateKeyValue(ctxT(t, 10*time.Second), jetstream.KeyValueConfig{Bucket: "ipcord_identify_budget", History: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Put(ctxT(t, 10*time.Second), "budget", []byte("{not json")); err != nil {
		t.Fatal(err)
	}

	var logs syncbuf.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
	ctx := ctxT(t, 30*time.Second)
	var ms []*shard.Manager
	for p := range 2 {
		rc := &rest.Client{Token: "token", BaseURL: srv.URL}
		lim, err := natsipc.NewIdentifyLimiter(ctx, connect(t, ns.ClientURL()), natsipc.LimiterConfig{
			MaxConcurrency: shards, Interval: 100 * time.Millisecond, REST: rc, Reserve: reserve, Logger: log,
		})
		if err != nil {
			t.Fatal(err)
		}
		m, err := shard.NewManager(shard.ManagerConfig{
			Shard: shard.Config{
				Gateway:  gateway.Config{Token: "token"},
				Backoff:  shard.Backoff{Base: 10 * time.Millisecond, Max: 50 * time.Millisecond, Min: time.Millisecond},
				Identify: lim,
			},
			REST: rc, IdentifyReserve: -1,
			Shards: []int{p, p + 2, p + 4},
		})
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() { defer close(done); m.Run(context.Background()) }()
		t.Cleanup(func() {
			m.Close(ctxT(t, 5*time.Second), true)
			<-done
		})
		ms = append(ms, m)
	}

	// Wait until every shard that did not identify was refused twice over.
	deadline := time.Now().Add(20 * time.Second)
	for strings.Count(logs.String(), "fleet's session start reserve") < 2*(shards-(left-reserve)) {
		if time.Now().After(deadline) {
			t.Fatalf("refusals so far:\n%s", logs.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	identifies := g.CountReceived(func(r discordtest.Received) bool { return r.Op == 2 })
	if identifies != left-reserve {
		t.Errorf("%d IDENTIFYs reached Discord with %d starts left and a reserve of %d", identifies, left, reserve)
	}
	if got := srv.GatewayBot().SessionStartLimit.Remaining; got != reserve {
		t.Errorf("%d session starts left, want the reserve %d", got, reserve)
	}
	refused := 0
	for _, m := range ms {
		for _, st := range m.Status() {
			var be *shard.IdentifyBudgetError
			if errors.As(st.LastError, &be) && errors.Is(st.LastError, shard.ErrIdentifyBudget) {
				refused++
				if be.Reserve != reserve || be.Remaining != reserve || be.ResetAt.Before(time.Now().Add(50*time.Minute)) {
					t.Errorf("shard %d: %+v", st.ID, be)
				}
			}
		}
	}
	if refused != shards-(left-reserve) {
		t.Errorf("%d shards refused with an IdentifyBudgetError, want %d", refused, shards-(left-reserve))
	}
	if !strings.Contains(logs.String(), "resets_at=") {
		t.Errorf("no reset time in the warning:\n%s", logs.String())
	}
}
