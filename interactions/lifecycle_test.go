package interactions_test

import (
	"context"
	"errors"
	"testing"

	"github.com/ipcord/ipcord/discord"
	"github.com/ipcord/ipcord/interactions"
	"github.com/ipcord/ipcord/internal/leaktest"
	"github.com/ipcord/ipcord/rest"
)

// TestResponseLifecycleFromListener: a listener answers through the
// callback route with with_response, then reads, edits and deletes its
// messages from Event.Go.
func TestResponseLifecycleFromListener(t *testing.T) {
	leaktest.Check(t)
	f := newFixture(t, interactions.Config{Respond202: true, WithResponse: true})
	file := rest.File{Name: "a.txt", Data: []byte("hello")}
	done := make(chan error, 1)
	must(t, f.e.Command(discord.CommandChatInput, "life", func(_ context.Context, ev *interactions.Event) (*interactions.Response, error) {
		ev.Go(func(ctx context.Context) { done <- lifecycle(ctx, ev, file) })
		return interactions.Reply("first").WithFiles(file), nil
	}))
	if status, _, _ := f.post(command("life", "")); status != 202 {
		t.Fatalf("status %d", status)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, ok := f.fake.Original("tok"); ok {
		t.Fatal("@original still there")
	}
	if fus := f.fake.Followups("tok"); len(fus) != 1 || fus[0].Content != "kept" {
		t.Fatalf("follow-ups left: %+v", fus)
	}
}

func lifecycle(ctx context.Context, ev *interactions.Event, file rest.File) error {
	cb := ev.Callback()
	if cb == nil || cb.Resource == nil || cb.Resource.Message == nil || len(cb.Resource.Message.Attachments) != 1 {
		return errors.New("no callback response")
	}
	orig, err := ev.Original(ctx)
	if err != nil || orig.ID != cb.Interaction.ResponseMessageID || orig.Content != "first" {
		return errors.Join(errors.New("original"), err)
	}
	if m, err := ev.EditOriginal(ctx, interactions.Update("edited")); err != nil || m.Content != "edited" {
		return errors.Join(errors.New("edit original"), err)
	}
	fu, err := ev.Followup(ctx, interactions.Reply("more"))
	if err != nil {
		return err
	}
	if m, err := ev.EditFollowup(ctx, fu.ID, interactions.Reply("changed").WithFiles(file)); err != nil || m.Content != "changed" || len(m.Attachments) != 1 {
		return errors.Join(errors.New("edit follow-up"), err)
	}
	if err := ev.DeleteFollowup(ctx, fu.ID); err != nil {
		return err
	}
	if _, err := ev.Followup(ctx, interactions.Reply("kept")); err != nil {
		return err
	}
	return ev.DeleteOriginal(ctx)
}
