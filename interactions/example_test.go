package interactions_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/ipcord/ipcord/discord"
	"github.com/ipcord/ipcord/discordtest"
	"github.com/ipcord/ipcord/interactions"
)

func Example() {
	signer, _ := discordtest.NewSigner() // stands in for Discord
	e, err := interactions.New(interactions.Config{PublicKey: signer.PublicKeyHex()})
	if err != nil {
		panic(err)
	}
	defer e.Shutdown(context.Background())

	e.Command(discord.CommandChatInput, "ping", func(ctx context.Context, ev *interactions.Event) (*interactions.Response, error) {
		return interactions.Reply("pong, " + ev.Interaction.Author().Username), nil
	})

	mux := http.NewServeMux()
	mux.Handle("POST /interactions", e)
	srv := httptest.NewServer(mux)
	defer srv.Close()

	body := `{"id":"1","application_id":"2","type":2,"token":"t","version":1,
		"user":{"id":"3","username":"ana"},"data":{"id":"4","name":"ping","type":1}}`
	req, _ := signer.NewRequest(context.Background(), srv.URL+"/interactions", []byte(body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	fmt.Println(resp.StatusCode, strings.TrimSpace(string(out)))
	// Output: 200 {"type":4,"data":{"content":"pong, ana"}}
}

func ExampleEndpoint_Handle() {
	signer, _ := discordtest.NewSigner()
	e, _ := interactions.New(interactions.Config{PublicKey: signer.PublicKeyHex()})
	defer e.Shutdown(context.Background())

	body := []byte(`{"id":"1","type":1,"token":"t"}`)
	sig, ts := signer.Headers(body)
	res := e.Handle(context.Background(), sig, ts, body)
	fmt.Println(res.Status, string(res.Body))
	fmt.Println(e.Handle(context.Background(), sig, ts, []byte(`{"id":"1","type":1,"token":"forged"}`)).Status)
	// Output:
	// 200 {"type":1}
	// 401
}

// Commands defined with their listeners are the list to register with
// Discord (rest.Client.OverwriteCommands, or `ipcord commands sync`).
func ExampleEndpoint_Define() {
	e, _ := interactions.New(interactions.Config{PublicKey: "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"})
	defer e.Shutdown(context.Background())
	e.Define(discord.ApplicationCommand{Name: "ping", Description: "Pong!"},
		func(context.Context, *interactions.Event) (*interactions.Response, error) {
			return interactions.Reply("pong"), nil
		})
	out, _ := json.Marshal(e.Commands())
	fmt.Println(string(out))
	// Output: [{"name":"ping","description":"Pong!"}]
}
