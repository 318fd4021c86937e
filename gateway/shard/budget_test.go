package shard_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/ipcord/ipcord/discord"
	"github.com/ipcord/ipcord/discordtest"
	"github.com/ipcord/ipcord/gateway/shard"
	"github.com/ipcord/ipcord/internal/leaktest"
	"github.com/ipcord/ipcord/internal/syncbuf"
	"github.com/ipcord/ipcord/rest"
)

// A session start budget at or below the reserve gets no IDENTIFY: the
// shards report an *IdentifyBudgetError, a warning says when the budget
// resets, and once Get Gateway Bot shows more starts the shards identify,
// each spending one, never going below the reserve.
func TestIdentifyBudgetGuard(t *testing.T) {
	leaktest.Check(t)
	const shards, reserve = 3, 5
	srv, err := discordtest.NewServer(&discordtest.ServerOptions{Token: "token", GatewayBot: discord.GatewayBot{
		Shards:            shards,
		SessionStartLimit: discord.SessionStartLimit{Total: 1000, Remaining: reserve, ResetAfter: 3_600_000, MaxConcurrency: shards},
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	g := startGateway(t, discordInterval, func(g *discordtest.Gateway) {
		g.Shards, g.MaxConcurrency, g.SessionStarts = shards, shards, srv
	})
	gb := srv.GatewayBot()
	gb.URL = g.URL()
	srv.SetGatewayBot(gb)

	var logs syncbuf.Buffer
	tmpl := shardConfig(g, newRecorder())
	tmpl.Gateway.URL = ""
	tmpl.Identify = nil
	tmpl.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
	m, err := shard.NewManager(shard.ManagerConfig{
		Shard: tmpl, REST: &rest.Client{Token: "token", BaseURL: srv.URL},
		IdentifyReserve: reserve, BudgetRefresh: 50 * time.Millisecond, IdentifyInterval: time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- m.Run(context.Background()) }()
	t.Cleanup(func() {
		m.Close(ctxT(t, 5*time.Second), true)
		if err := <-done; err != nil {
			t.Error(err)
		}
	})

	// Every shard is refused, with the typed error.
	deadline := time.Now().Add(10 * time.Second)
	for {
		refused := 0
		for _, st := range m.Status() {
			var be *shard.IdentifyBudgetError
			if errors.As(st.LastError, &be) && errors.Is(st.LastError, shard.ErrIdentifyBudget) &&
				be.Remaining == reserve && be.Reserve == reserve && !be.ResetAt.IsZero() {
				refused++
			}
		}
		if refused == shards {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d shards refused: %+v", refused, shards, m.Status())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if n := identifies(g); n != 0 {
		t.Fatalf("%d IDENTIFYs below the reserve", n)
	}
	if l := logs.String(); !strings.Contains(l, "resets_at=") || !strings.Contains(l, "remaining=5") {
		t.Errorf("no warning saying when the budget resets:\n%s", l)
	}

	// Two more starts appear: two shards identify, the third is refused.
	l := srv.GatewayBot()
	l.SessionStartLimit.Remaining = reserve + 2
	srv.SetGatewayBot(l)
	deadline = time.Now().Add(10 * time.Second)
	for identifies(g) < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("%d IDENTIFYs after the budget grew", identifies(g))
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond) // a few more refreshes and retries
	if n := identifies(g); n != 2 {
		t.Errorf("%d IDENTIFYs with 2 starts above the reserve", n)
	}
	if left := srv.GatewayBot().SessionStartLimit.Remaining; left != reserve {
		t.Errorf("the fake's budget is at %d, want the reserve %d", left, reserve)
	}
}

func identifies(g *discordtest.Gateway) int {
	return g.CountReceived(func(r discordtest.Received) bool { return r.Op == 2 })
}
