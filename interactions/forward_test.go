package interactions_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/ipcord/ipcord/discord"
	"github.com/ipcord/ipcord/interactions"
	"github.com/ipcord/ipcord/internal/leaktest"
	"github.com/ipcord/ipcord/internal/natstest"
	"github.com/ipcord/ipcord/ipc"
	"github.com/ipcord/ipcord/ipc/natsipc"
)

// startNATS runs an embedded nats-server on 127.0.0.1, stopped when the
// test ends, and returns its URL.
func startNATS(t *testing.T) string { return natstest.Start(t, nil).ClientURL() }

// serveCluster serves the fixture's endpoint as natsipc cluster c0 and
// returns a node that calls it.
func serveCluster(t *testing.T, f *fixture) *natsipc.Node {
	url := startNATS(t)
	r := ipc.NewRouter()
	if err := r.Handle(interactions.ForwardRoute, interactions.ForwardHandler(f.e)); err != nil {
		t.Fatal(err)
	}
	cluster, err := natsipc.Connect(url, natsipc.Config{Cluster: "c0", Router: r})
	if err != nil {
		t.Fatal(err)
	}
	caller, err := natsipc.Connect(url, natsipc.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		caller.Close()
		cluster.Close()
	})
	return caller
}

// viaNATS puts a second endpoint in front — the one public URL of a fleet
// — that verifies each interaction and forwards it over NATS to cluster
// c0, where the fixture's endpoint serves it.
func viaNATS(t *testing.T, f *fixture) func(t *testing.T, f *fixture, body string) string {
	caller := serveCluster(t, f)
	front, err := interactions.New(interactions.Config{
		PublicKey: f.signer.PublicKeyHex(),
		Forward:   interactions.ForwardTo(func(*discord.Interaction) ipc.Caller { return caller.Cluster("c0") }),
	})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- front.Serve(ctx, ln) }()
	tr := &http.Transport{}
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	t.Cleanup(func() {
		tr.CloseIdleConnections()
		cancel()
		<-served
		front.Shutdown(context.Background())
	})
	url := "http://" + ln.Addr().String() + "/interactions"
	return func(t *testing.T, f *fixture, body string) string {
		f.mu.Lock()
		f.since = time.Now()
		f.mu.Unlock()
		req, _ := f.signer.NewRequest(t.Context(), url, []byte(body))
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 202 {
			t.Fatalf("front endpoint answered %d", resp.StatusCode)
		}
		return string(f.waitRequest("POST /interactions/*/*/callback").JSON)
	}
}

// TestForwardCarriesDeadline: a forwarded interaction is deferred by what
// is left of Discord's deadline when it was sent on, not afresh.
func TestForwardCarriesDeadline(t *testing.T) {
	leaktest.Check(t)
	f := newFixture(t, interactions.Config{}) // DeferAfter 2 s
	caller := serveCluster(t, f)
	release := make(chan struct{})
	defer close(release)
	must(t, f.e.Command(discord.CommandChatInput, "slow", slow(release, interactions.Reply("later"))))

	// 1.7 s of Discord's 3 went by before the interaction was sent on: the
	// defer is due 0.3 s after it arrives.
	f.since = time.Now()
	t0 := time.Now()
	fw := interactions.Forwarded{Interaction: []byte(command("slow", "")), RemainingUS: (1300 * time.Millisecond).Microseconds()}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	if err := caller.Cluster("c0").Call(ctx, interactions.ForwardRoute, fw, nil); err != nil {
		t.Fatal(err)
	}
	took := time.Since(t0)
	if cb := f.waitRequest("POST /interactions/*/*/callback"); string(cb.JSON) != `{"type":5}` {
		t.Fatalf("callback %s", cb.JSON)
	}
	if took < 250*time.Millisecond || took > 1500*time.Millisecond {
		t.Fatalf("deferred after %v; due after 0.3 s", took)
	}

	for _, us := range []int64{0, -5, (4 * time.Second).Microseconds()} {
		fw.RemainingUS = us
		var ierr *ipc.Error
		if err := caller.Cluster("c0").Call(ctx, interactions.ForwardRoute, fw, nil); !errors.As(err, &ierr) {
			t.Fatalf("remaining %d µs: %v", us, err)
		}
	}
}
