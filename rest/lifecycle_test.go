package rest_test

import (
	"errors"
	"testing"

	"github.com/ipcord/ipcord/discord"
	"github.com/ipcord/ipcord/discordtest"
	"github.com/ipcord/ipcord/internal/leaktest"
	"github.com/ipcord/ipcord/rest"
)

// TestResponseLifecycle walks an interaction token through every route:
// the callback with with_response, @original GET/PATCH/DELETE, and
// follow-ups create/get/edit/delete, with files where Discord takes them.
func TestResponseLifecycle(t *testing.T) {
	leaktest.Check(t)
	srv := newServer(t, nil)
	c := client(t, srv, "")
	ctx := t.Context()
	const app, tok = discord.Snowflake(1), "tok/en"
	file := rest.File{Name: "a.txt", Data: []byte("hello")}

	cb, err := c.CreateInteractionResponseWithResponse(ctx, 9, tok, &discord.InteractionResponse{
		Type: discord.ResponseMessage, Data: &discord.InteractionResponseData{MessageParams: discord.MessageParams{Content: "first"}}}, file)
	if err != nil || cb.Interaction.ID != 9 || cb.Resource == nil || cb.Resource.Message == nil ||
		cb.Resource.Message.Content != "first" || cb.Interaction.ResponseMessageID != cb.Resource.Message.ID ||
		len(cb.Resource.Message.Attachments) != 1 {
		t.Fatalf("callback with_response: %+v %v", cb, err)
	}
	orig, err := c.GetOriginal(ctx, app, tok)
	if err != nil || orig.ID != cb.Interaction.ResponseMessageID || orig.Content != "first" {
		t.Fatalf("get original: %+v %v", orig, err)
	}
	// An edit's attachments are the ones to keep plus the new files, as
	// on Discord: the old file is kept by naming it.
	edited, err := c.EditOriginal(ctx, app, tok, &discord.MessageParams{Content: "edited", Attachments: orig.Attachments}, rest.File{Name: "b.txt", Data: []byte("b")})
	if err != nil || edited.Content != "edited" || len(edited.Attachments) != 2 {
		t.Fatalf("edit original: %+v %v", edited, err)
	}
	if err := c.DeleteOriginal(ctx, app, tok); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetOriginal(ctx, app, tok); !errors.Is(err, rest.ErrNotFound) {
		t.Fatalf("original after delete: %v", err)
	}

	fu, err := c.CreateFollowup(ctx, app, tok, &discord.MessageParams{Content: "more"}, file)
	if err != nil || fu.Content != "more" || len(fu.Attachments) != 1 {
		t.Fatalf("create follow-up: %+v %v", fu, err)
	}
	got, err := c.GetFollowup(ctx, app, tok, fu.ID)
	if err != nil || got.ID != fu.ID {
		t.Fatalf("get follow-up: %+v %v", got, err)
	}
	got, err = c.EditFollowup(ctx, app, tok, fu.ID, &discord.MessageParams{Content: "changed", Attachments: fu.Attachments}, file)
	if err != nil || got.Content != "changed" || len(got.Attachments) != 2 {
		t.Fatalf("edit follow-up: %+v %v", got, err)
	}
	if req := srv.Requests()[len(srv.Requests())-1]; !req.Multipart() || req.Path != "/webhooks/1/tok%2Fen/messages/"+fu.ID.String() {
		t.Fatalf("edit follow-up request: %s multipart=%v", req.Path, req.Multipart())
	}
	if err := c.DeleteFollowup(ctx, app, tok, fu.ID); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteFollowup(ctx, app, tok, fu.ID); !errors.Is(err, rest.ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}

	// Every documented response type is accepted; LAUNCH_ACTIVITY returns
	// the Activity instance.
	for i, typ := range []discord.InteractionResponseType{1, 4, 5, 6, 7, 8, 9, 10, 12} {
		r := &discord.InteractionResponse{Type: typ}
		if typ == discord.ResponseMessage || typ == discord.ResponseUpdateMessage {
			r.Data = &discord.InteractionResponseData{MessageParams: discord.MessageParams{Content: "x"}}
		}
		cb, err := c.CreateInteractionResponseWithResponse(ctx, discord.Snowflake(100+i), "t", r)
		if err != nil || cb.Resource == nil || cb.Resource.Type != typ {
			t.Fatalf("type %d: %+v %v", typ, cb, err)
		}
		if typ == discord.ResponseLaunchActivity && (cb.Resource.ActivityInstance == nil || cb.Interaction.ActivityInstanceID == "") {
			t.Fatalf("launch activity: %+v", cb)
		}
	}
	if err := c.CreateInteractionResponse(ctx, 200, "t", &discord.InteractionResponse{Type: 11}); !errors.Is(err, rest.ErrBadRequest) {
		t.Fatalf("undocumented type: %v", err)
	}
}

// TestCommands registers, lists and deletes global and guild commands.
func TestCommands(t *testing.T) {
	leaktest.Check(t)
	srv := newServer(t, &discordtest.ServerOptions{Token: "tok"})
	c := client(t, srv, "tok")
	ctx := t.Context()
	const app = discord.Snowflake(1)
	for _, guild := range []discord.Snowflake{0, 42} {
		cmds, err := c.OverwriteCommands(ctx, app, guild, []discord.ApplicationCommand{
			{Name: "ping", Description: "Pong!"},
			{Name: "Info", Type: discord.CommandUser},
		})
		if err != nil || len(cmds) != 2 || cmds[0].ID == 0 || cmds[0].GuildID != guild || cmds[1].Type != discord.CommandUser {
			t.Fatalf("guild %d overwrite: %+v %v", guild, cmds, err)
		}
		made, err := c.CreateCommand(ctx, app, guild, &discord.ApplicationCommand{Name: "fruit", Description: "Pick one",
			Options: []discord.CommandOptionSpec{{Type: discord.OptionString, Name: "name", Description: "a fruit", Autocomplete: true}}})
		if err != nil || made.ID == 0 || made.Options[0].Name != "name" {
			t.Fatalf("create: %+v %v", made, err)
		}
		list, err := c.Commands(ctx, app, guild)
		if err != nil || len(list) != 3 {
			t.Fatalf("list: %+v %v", list, err)
		}
		if err := c.DeleteCommand(ctx, app, guild, cmds[0].ID); err != nil {
			t.Fatal(err)
		}
		if list, _ = c.Commands(ctx, app, guild); len(list) != 2 {
			t.Fatalf("after delete: %+v", list)
		}
		if err := c.DeleteCommand(ctx, app, guild, cmds[0].ID); !errors.Is(err, rest.ErrNotFound) {
			t.Fatalf("second delete: %v", err)
		}
	}
	if _, err := c.CreateCommand(ctx, app, 0, &discord.ApplicationCommand{Name: "Bad Name", Description: "x"}); !errors.Is(err, rest.ErrBadRequest) {
		t.Fatalf("bad name: %v", err)
	}
	if cmds, err := c.OverwriteCommands(ctx, app, 42, nil); err != nil || len(cmds) != 0 || len(srv.Commands(42)) != 0 {
		t.Fatalf("overwrite with none: %+v %v", cmds, err)
	}
	if len(srv.Commands(0)) != 2 {
		t.Fatalf("global commands touched by a guild overwrite: %+v", srv.Commands(0))
	}
	if _, err := client(t, srv, "").Commands(ctx, app, 0); !errors.Is(err, rest.ErrNoToken) {
		t.Fatalf("no token: %v", err)
	}
}
