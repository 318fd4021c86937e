package main

import (
	"crypto/ed25519"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ipcord/ipcord/discord"
	"github.com/ipcord/ipcord/discordtest"
	"github.com/ipcord/ipcord/interactions"
)

func TestCommandsSync(t *testing.T) {
	fake, err := discordtest.NewServer(&discordtest.ServerOptions{Token: "tok", Application: discord.Application{ID: 77}})
	if err != nil {
		t.Fatal(err)
	}
	defer fake.Close()
	file := filepath.Join(t.TempDir(), "commands.json")
	os.WriteFile(file, []byte(`[{"name":"ping","description":"Pong!"},{"name":"Profile","type":2}]`), 0o600)
	env := func(k string) string {
		if k == "DISCORD_TOKEN" {
			return "tok"
		}
		return ""
	}
	code, out, errOut := runCLI(t, env, "commands", "sync", "--file", file, "--rest-url", fake.URL)
	if code != 0 || !strings.Contains(out, "2 commands registered globally") {
		t.Fatalf("global: %d %q %q", code, out, errOut)
	}
	code, out, errOut = runCLI(t, env, "commands", "sync", "--file", file, "--guild", "42", "--app", "77", "--rest-url", fake.URL)
	if code != 0 || !strings.Contains(out, "in guild 42") || len(fake.Commands(42)) != 2 || fake.Commands(42)[0].ApplicationID != 77 {
		t.Fatalf("guild: %d %q %q %+v", code, out, errOut, fake.Commands(42))
	}

	os.WriteFile(file, []byte(`{"name":"not an array"}`), 0o600)
	if code, _, errOut := runCLI(t, env, "commands", "sync", "--file", file, "--rest-url", fake.URL); code != 1 || !strings.Contains(errOut, "not a JSON array") {
		t.Fatalf("bad file: %d %q", code, errOut)
	}
	os.WriteFile(file, []byte(`[{"name":"Bad Name","description":"x"}]`), 0o600)
	if code, _, errOut := runCLI(t, env, "commands", "sync", "--file", file, "--rest-url", fake.URL); code != 1 || !strings.Contains(errOut, "400") {
		t.Fatalf("refused by Discord: %d %q", code, errOut)
	}
	if code, _, _ := runCLI(t, nil, "commands", "sync", "--file", file); code != 1 {
		t.Fatalf("no token: %d", code)
	}
	if code, _, _ := runCLI(t, env, "commands", "--file", file); code != 2 {
		t.Fatalf("no verb: %d", code)
	}
}

// TestKeygen: the printed pair is a working key pair, in the variables
// `ipcord interactions` and `ipcord sign` read.
func TestKeygen(t *testing.T) {
	code, out, _ := runCLI(t, nil, "keygen")
	vars := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		k, v, _ := strings.Cut(l, "=")
		vars[k] = v
	}
	if code != 0 || len(vars) != 2 {
		t.Fatalf("keygen: %d %q", code, out)
	}
	pub, err := interactions.ParsePublicKey(vars["IPCORD_PUBLIC_KEY"])
	if err != nil {
		t.Fatal(err)
	}
	seed, _ := hex.DecodeString(vars["IPCORD_PRIVATE_KEY"])
	signer, err := discordtest.NewSignerFromKey(seed)
	if err != nil || !ed25519.PublicKey(pub).Equal(signer.PublicKey()) {
		t.Fatalf("the private key does not match the public one: %v", err)
	}
	_, out2, _ := runCLI(t, nil, "keygen")
	if out2 == out {
		t.Fatal("two runs printed the same pair")
	}
}

// TestSampleCommandsSync: the sample endpoint's registry prints the JSON
// that commands sync registers — one source of truth.
func TestSampleCommandsSync(t *testing.T) {
	code, out, errOut := runCLI(t, nil, "interactions", "--print-commands")
	if code != 0 || !strings.Contains(out, `"name": "fruit"`) || !strings.Contains(out, `"autocomplete": true`) {
		t.Fatalf("print-commands: %d %q %q", code, out, errOut)
	}
	fake, err := discordtest.NewServer(&discordtest.ServerOptions{Token: "tok"})
	if err != nil {
		t.Fatal(err)
	}
	defer fake.Close()
	file := filepath.Join(t.TempDir(), "commands.json")
	os.WriteFile(file, []byte(out), 0o600)
	env := func(k string) string {
		if k == "DISCORD_TOKEN" {
			return "tok"
		}
		return ""
	}
	if code, out, errOut := runCLI(t, env, "commands", "sync", "--file", file, "--rest-url", fake.URL); code != 0 || !strings.Contains(out, "3 commands registered") {
		t.Fatalf("sync: %d %q %q", code, out, errOut)
	}
}
