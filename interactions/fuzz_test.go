package interactions_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/ipcord/ipcord/discord"
	"github.com/ipcord/ipcord/discordtest"
	"github.com/ipcord/ipcord/interactions"
)

// FuzzRequest sends arbitrary bodies, correctly signed, through the core:
// whatever the body, the answer is one of the documented statuses and
// nothing panics.
func FuzzRequest(f *testing.F) {
	for _, s := range []string{
		`{"id":"1","type":1,"token":"t"}`,
		command("ping", ""),
		command("ping", `[{"name":"g","type":2,"options":[{"name":"s","type":1,"options":[]}]}]`),
		component("btn:1"),
		autocomplete("ping"),
		modal("form"),
		`{"type":2,"data":null}`,
		`{"type":3,"data":{"custom_id":"` + "\xff" + `"}}`,
	} {
		f.Add([]byte(s), false)
	}
	signer, _ := discordtest.NewSigner()
	e, err := interactions.New(interactions.Config{PublicKey: signer.PublicKeyHex(), MaxBodyBytes: 64 << 10})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { e.Shutdown(context.Background()) })
	echo := func(_ context.Context, ev *interactions.Event) (*interactions.Response, error) {
		if ev.Interaction.Type == discord.InteractionAutocomplete {
			return interactions.Choices(), nil
		}
		return interactions.Reply("ok " + ev.CommandName()), nil
	}
	e.Command(discord.CommandChatInput, "ping", echo)
	e.Command(discord.CommandChatInput, "ping g s", echo)
	e.ComponentPrefix("btn", echo)
	e.Autocomplete("ping", echo)
	e.Modal("form", echo)
	allowed := map[int]bool{200: true, 400: true, 413: true, 500: true, 501: true}
	f.Fuzz(func(t *testing.T, body []byte, tamper bool) {
		sig, ts := signer.Headers(body)
		if tamper {
			ts += "0"
		}
		res := e.Handle(t.Context(), sig, ts, body)
		if res.Sent != nil {
			res.Sent()
		}
		if tamper {
			if res.Status != http.StatusUnauthorized {
				t.Fatalf("tampered timestamp: %d", res.Status)
			}
			return
		}
		if !allowed[res.Status] {
			t.Fatalf("status %d for %q", res.Status, body)
		}
	})
}

// FuzzHeaders feeds arbitrary signature headers: none may pass.
func FuzzHeaders(f *testing.F) {
	f.Add("", "", []byte(`{"type":1}`))
	f.Add("00", "1700000000", []byte(`{"type":1}`))
	signer, _ := discordtest.NewSigner()
	e, _ := interactions.New(interactions.Config{PublicKey: signer.PublicKeyHex(), ReplayWindow: interactions.NoReplayWindow})
	f.Cleanup(func() { e.Shutdown(context.Background()) })
	f.Fuzz(func(t *testing.T, sig, ts string, body []byte) {
		if res := e.Handle(t.Context(), sig, ts, body); res.Status != http.StatusUnauthorized && res.Status != http.StatusRequestEntityTooLarge {
			t.Fatalf("forged headers %q %q got %d", sig, ts, res.Status)
		}
	})
}
