package interactions_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/ipcord/ipcord/discord"
	"github.com/ipcord/ipcord/discordtest"
	"github.com/ipcord/ipcord/interactions"
	"github.com/ipcord/ipcord/internal/leaktest"
)

// TestConcurrentMixedRequests runs fast and deferred listeners side by
// side (for the race detector) and checks every one is answered once: fast
// ones in the HTTP reply, slow ones by exactly one edit of their own token.
func TestConcurrentMixedRequests(t *testing.T) {
	leaktest.Check(t)
	// A fast listener must answer within DeferAfter even on a loaded
	// machine under the race detector: 100 ms was not always enough.
	f := newFixture(t, interactions.Config{DeferAfter: time.Second})
	release := make(chan struct{})
	f.e.Command(1, "fast", func(_ context.Context, ev *interactions.Event) (*interactions.Response, error) {
		return interactions.Reply("fast " + ev.Interaction.Token), nil
	})
	f.e.Command(1, "slow", func(ctx context.Context, ev *interactions.Event) (*interactions.Response, error) {
		select {
		case <-release:
			return interactions.Reply("slow " + ev.Interaction.Token), nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	})
	const n = 24
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			name := "fast"
			if i%2 == 1 {
				name = "slow"
			}
			body := fmt.Sprintf(`{"id":"%d","application_id":"11","type":2,"token":"tok%d","data":{"name":"%s","type":1}}`, 1000+i, i, name)
			status, _, got := f.post(body)
			var r discord.InteractionResponse
			if err := json.Unmarshal(got, &r); err != nil || r.Data == nil && name == "fast" {
				errs <- fmt.Errorf("%d: answer %q: %v", i, got, err)
				return
			}
			switch {
			case status != 200:
				errs <- fmt.Errorf("%d: status %d", i, status)
			case name == "fast" && (r.Type != discord.ResponseMessage || r.Data.Content != fmt.Sprintf("fast tok%d", i)):
				errs <- fmt.Errorf("%d: fast answer %s", i, got)
			case name == "slow" && r.Type != discord.ResponseDeferredMessage:
				errs <- fmt.Errorf("%d: slow answer %s", i, got)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	close(release)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	for i := 1; i < n; i += 2 {
		route := fmt.Sprintf("PATCH /webhooks/11/tok%d/messages/@original", i)
		r, err := f.fake.Wait(ctx, discordtest.Route(route))
		if err != nil {
			t.Fatalf("%s: %v", route, err)
		}
		var p discord.MessageParams
		if r.Decode(&p); p.Content != fmt.Sprintf("slow tok%d", i) {
			t.Errorf("%s carried %q", route, p.Content)
		}
	}
	edits := 0
	for _, r := range f.fake.Requests() {
		if r.Method == "PATCH" {
			edits++
		}
	}
	if edits != n/2 {
		t.Fatalf("%d edits for %d slow commands", edits, n/2)
	}
}
