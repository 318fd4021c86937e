package interactions_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ipcord/ipcord/discord"
	"github.com/ipcord/ipcord/interactions"
	"github.com/ipcord/ipcord/internal/leaktest"
	"github.com/ipcord/ipcord/rest"
)

// slow returns a listener that answers r once release is closed.
func slow(release <-chan struct{}, r *interactions.Response) interactions.Listener {
	return func(ctx context.Context, _ *interactions.Event) (*interactions.Response, error) {
		select {
		case <-release:
			return r, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

func TestDeferralPaths(t *testing.T) {
	leaktest.Check(t)
	f := newFixture(t, interactions.Config{DeferAfter: 250 * time.Millisecond})

	t.Run("command, ephemeral defer, then edit @original", func(t *testing.T) {
		release := make(chan struct{})
		f.e.Command(1, "slow", slow(release, interactions.Reply("done")), interactions.Ephemeral)
		start := time.Now()
		status, _, body := f.post(command("slow", ""))
		r := decodeResponse(t, body)
		if status != 200 || r.Type != discord.ResponseDeferredMessage || r.Data == nil || r.Data.Flags != discord.MessageFlagEphemeral {
			t.Fatalf("defer: %d %s", status, body)
		}
		if d := time.Since(start); d < 250*time.Millisecond || d > 3*time.Second {
			t.Fatalf("deferred after %v", d)
		}
		close(release)
		req := f.waitRequest("PATCH /webhooks/11/tok/messages/@original")
		var p discord.MessageParams
		if err := req.Decode(&p); err != nil || p.Content != "done" {
			t.Fatalf("edit: %s %v", req.JSON, err)
		}
	})
	t.Run("component update after a deferred update edits @original", func(t *testing.T) {
		release := make(chan struct{})
		f.e.Component("slow-update", slow(release, interactions.Update("updated")))
		status, _, body := f.post(component("slow-update"))
		if status != 200 || string(body) != `{"type":6}` {
			t.Fatalf("defer: %d %s", status, body)
		}
		close(release)
		req := f.waitRequest("PATCH /webhooks/11/tok/messages/@original")
		if !strings.Contains(string(req.JSON), `"updated"`) {
			t.Fatalf("edit: %s", req.JSON)
		}
	})
	t.Run("component message after a deferred update is a follow-up", func(t *testing.T) {
		release := make(chan struct{})
		f.e.Component("slow-reply", slow(release, interactions.Reply("new message")))
		if status, _, body := f.post(component("slow-reply")); status != 200 || string(body) != `{"type":6}` {
			t.Fatalf("defer: %d %s", status, body)
		}
		close(release)
		req := f.waitRequest("POST /webhooks/11/tok")
		if !strings.Contains(string(req.JSON), `"new message"`) {
			t.Fatalf("follow-up: %s", req.JSON)
		}
	})
	t.Run("modal after a defer is ErrTooLate", func(t *testing.T) {
		release := make(chan struct{})
		f.e.Command(1, "slow-modal", slow(release, interactions.Modal("m", "Title", discord.ActionRow(discord.TextInput("a", "A", 1)))))
		if status, _, body := f.post(command("slow-modal", "")); status != 200 || string(body) != `{"type":5}` {
			t.Fatalf("defer: %d %s", status, body)
		}
		close(release)
		if err := f.waitErr(); !errors.Is(err, interactions.ErrTooLate) {
			t.Fatalf("late modal: %v", err)
		}
	})
	t.Run("autocomplete is answered with no choices, late answer is ErrTooLate", func(t *testing.T) {
		release := make(chan struct{})
		f.e.Autocomplete("slow", slow(release, interactions.Choices(discord.CommandOptionChoice{Name: "a", Value: "a"})))
		if status, _, body := f.post(autocomplete("slow")); status != 200 || string(body) != `{"type":8,"data":{"choices":[]}}` {
			t.Fatalf("autocomplete at the deadline: %d %s", status, body)
		}
		close(release)
		if err := f.waitErr(); !errors.Is(err, interactions.ErrTooLate) {
			t.Fatalf("late autocomplete: %v", err)
		}
	})
	t.Run("modal submit is deferred with 5", func(t *testing.T) {
		release := make(chan struct{})
		f.e.Modal("slow-form", func(ctx context.Context, ev *interactions.Event) (*interactions.Response, error) {
			<-release
			v, _ := ev.Modal.Value("text")
			return interactions.Reply("got " + v), nil
		})
		if status, _, body := f.post(modal("slow-form")); status != 200 || string(body) != `{"type":5}` {
			t.Fatalf("defer: %d %s", status, body)
		}
		close(release)
		req := f.waitRequest("PATCH /webhooks/11/tok/messages/@original")
		if !strings.Contains(string(req.JSON), `"got typed"`) {
			t.Fatalf("edit: %s", req.JSON)
		}
	})
}

func TestFilesInlineAndLarge(t *testing.T) {
	leaktest.Check(t)
	f := newFixture(t, interactions.Config{InlineFileLimit: 1000})
	f.e.Command(1, "small", func(context.Context, *interactions.Event) (*interactions.Response, error) {
		return interactions.Reply("small").WithFiles(rest.File{Name: "a.txt", Data: []byte("hello")}), nil
	})
	f.e.Command(1, "large", func(context.Context, *interactions.Event) (*interactions.Response, error) {
		return interactions.Reply("large").Ephemeral().WithFiles(rest.File{Name: "big.bin", Data: make([]byte, 5000)}), nil
	})

	status, h, body := f.post(command("small", ""))
	if status != 200 || !strings.HasPrefix(h.Get("Content-Type"), "multipart/form-data; boundary=") {
		t.Fatalf("small: %d %q", status, h.Get("Content-Type"))
	}
	s := string(body)
	if !strings.Contains(s, `name="payload_json"`) || !strings.Contains(s, `name="files[0]"; filename="a.txt"`) ||
		!strings.Contains(s, `"attachments":[{"id":"0","filename":"a.txt"}]`) || !strings.Contains(s, "\r\n\r\nhello\r\n") {
		t.Fatalf("multipart body:\n%s", s)
	}

	status, _, body = f.post(command("large", ""))
	if r := decodeResponse(t, body); status != 200 || r.Type != discord.ResponseDeferredMessage || r.Data.Flags != discord.MessageFlagEphemeral {
		t.Fatalf("large: %d %s", status, body)
	}
	req := f.waitRequest("PATCH /webhooks/11/tok/messages/@original")
	if !req.Multipart() || len(req.Files) != 1 || len(req.Files[0].Data) != 5000 || req.Files[0].Field != "files[0]" {
		t.Fatalf("upload: multipart=%v files=%d", req.Multipart(), len(req.Files))
	}
}

func TestRespond202(t *testing.T) {
	leaktest.Check(t)
	f := newFixture(t, interactions.Config{Respond202: true, DeferAfter: 250 * time.Millisecond})
	f.e.Command(1, "ping", reply("pong"))
	release := make(chan struct{})
	f.e.Command(1, "slow", slow(release, interactions.Reply("later")))

	status, _, body := f.post(command("ping", ""))
	if status != 202 || len(body) != 0 {
		t.Fatalf("202 mode: %d %q", status, body)
	}
	req := f.waitRequest("POST /interactions/1100000000000000000/tok/callback")
	if string(req.JSON) != `{"type":4,"data":{"content":"pong"}}` {
		t.Fatalf("callback body %s", req.JSON)
	}

	if status, _, _ := f.post(command("slow", "")); status != 202 {
		t.Fatalf("slow: %d", status)
	}
	// The defer went to the callback route before the answer edits @original.
	reqs := f.fake.Requests()
	if last := reqs[len(reqs)-1]; string(last.JSON) != `{"type":5}` {
		t.Fatalf("defer callback %s %s", last.Path, last.JSON)
	}
	close(release)
	f.waitRequest("PATCH /webhooks/11/tok/messages/@original")
}

func TestShutdownWithLateListener(t *testing.T) {
	leaktest.Check(t)
	f := newFixture(t, interactions.Config{DeferAfter: 20 * time.Millisecond})
	release := make(chan struct{})
	canceled := make(chan error, 1)
	f.e.Command(1, "finishes", slow(release, interactions.Reply("finished")))
	f.e.Command(1, "stuck", func(ctx context.Context, _ *interactions.Event) (*interactions.Response, error) {
		<-ctx.Done()
		canceled <- ctx.Err()
		return nil, ctx.Err()
	})
	if status, _, _ := f.post(command("finishes", "")); status != 200 {
		t.Fatal(status)
	}
	if status, _, _ := f.post(command("stuck", "")); status != 200 {
		t.Fatal(status)
	}

	// Shutdown waits for listeners while its context lasts: the one released
	// meanwhile is delivered...
	close(release)
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	err := f.e.Shutdown(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("shutdown with a stuck listener: %v", err)
	}
	f.waitRequest("PATCH /webhooks/11/tok/messages/@original")
	// ...and the stuck one is canceled when the context ends.
	select {
	case err := <-canceled:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("listener context ended with %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("stuck listener not canceled")
	}
	// New requests are refused once shut down.
	if status := f.e.Handle(t.Context(), "", "", nil).Status; status != 401 {
		t.Fatalf("handle after shutdown without headers: %d", status)
	}
	sig, ts := f.signer.Headers([]byte("{}"))
	if res := f.e.Handle(t.Context(), sig, ts, []byte("{}")); res.Status != 503 {
		t.Fatalf("after shutdown: %d", res.Status)
	}
}

func TestEventGoSendsFollowupsAfterTheReply(t *testing.T) {
	leaktest.Check(t)
	f := newFixture(t, interactions.Config{})
	f.e.Command(1, "multi", func(_ context.Context, ev *interactions.Event) (*interactions.Response, error) {
		ev.Go(func(ctx context.Context) {
			if _, err := ev.Followup(ctx, interactions.Reply("second")); err != nil {
				t.Errorf("follow-up: %v", err)
			}
		})
		return interactions.Reply("first"), nil
	})
	f.e.Command(1, "fails", func(_ context.Context, ev *interactions.Event) (*interactions.Response, error) {
		ev.Go(func(context.Context) { t.Error("follow-up work ran for a failed interaction") })
		return nil, errors.New("no")
	})
	status, _, body := f.post(command("multi", ""))
	if r := decodeResponse(t, body); status != 200 || r.Data.Content != "first" {
		t.Fatalf("reply: %d %s", status, body)
	}
	req := f.waitRequest("POST /webhooks/11/tok")
	if !strings.Contains(string(req.JSON), `"second"`) {
		t.Fatalf("follow-up %s", req.JSON)
	}
	if status, _, _ := f.post(command("fails", "")); status != 500 {
		t.Fatalf("failing: %d", status)
	}
	// The listener's own error, then the dropped work.
	if err := f.waitErr(); err.Error() != "no" {
		t.Fatalf("first report: %v", err)
	}
	if err := f.waitErr(); !errors.Is(err, interactions.ErrNotAnswered) {
		t.Fatalf("second report: %v", err)
	}
}

// OnDefer sees each automatic defer and OnLateAnswer how each late answer
// ended; an answer in time reaches neither.
func TestDeferAndLateAnswerHooks(t *testing.T) {
	leaktest.Check(t)
	deferred := make(chan string, 8)
	late := make(chan error, 8)
	f := newFixture(t, interactions.Config{
		DeferAfter:   250 * time.Millisecond,
		OnDefer:      func(ev *interactions.Event) { deferred <- ev.CommandName() },
		OnLateAnswer: func(_ *interactions.Event, err error) { late <- err },
	})
	wait := func(what string) {
		t.Helper()
		select {
		case name := <-deferred:
			if name != what {
				t.Fatalf("OnDefer for %q, want %q", name, what)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("no OnDefer for %q", what)
		}
	}
	lateErr := func() error {
		t.Helper()
		select {
		case err := <-late:
			return err
		case <-time.After(5 * time.Second):
			t.Fatal("no OnLateAnswer")
			return nil
		}
	}

	f.e.Command(1, "fast", func(context.Context, *interactions.Event) (*interactions.Response, error) {
		return interactions.Reply("now"), nil
	})
	if status, _, _ := f.post(command("fast", "")); status != 200 {
		t.Fatalf("fast: %d", status)
	}

	release := make(chan struct{})
	f.e.Command(1, "slow", slow(release, interactions.Reply("done")))
	if status, _, _ := f.post(command("slow", "")); status != 200 {
		t.Fatalf("slow: %d", status)
	}
	wait("slow")
	close(release)
	if err := lateErr(); err != nil {
		t.Fatalf("a delivered late answer: %v", err)
	}
	f.waitRequest("PATCH /webhooks/11/tok/messages/@original")

	release = make(chan struct{})
	f.e.Command(1, "slow-modal", slow(release, interactions.Modal("m", "Title", discord.ActionRow(discord.TextInput("a", "A", 1)))))
	f.post(command("slow-modal", ""))
	wait("slow-modal")
	close(release)
	if err := lateErr(); !errors.Is(err, interactions.ErrTooLate) {
		t.Fatalf("a modal after a defer: %v", err)
	}
	select {
	case name := <-deferred:
		t.Fatalf("OnDefer for %q, which answered in time", name)
	default:
	}
}
