package main

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runCLI(t *testing.T, getenv func(string) string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	code := runMain(t.Context(), &env{stdout: &out, stderr: &errb, getenv: getenv}, args)
	return code, out.String(), errb.String()
}

func TestSign(t *testing.T) {
	seed := strings.Repeat("07", 32)
	priv := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, 32))
	pub := priv.Public().(ed25519.PublicKey)
	body := `{"type":1}`
	file := filepath.Join(t.TempDir(), "body.json")
	os.WriteFile(file, []byte(body), 0o600)

	for _, args := range [][]string{
		{"sign", "--private-key", seed, "--timestamp", "1700000000", "--body", body},
		{"sign", "--private-key", seed + hex.EncodeToString(pub), "--timestamp", "1700000000", "--file", file},
	} {
		code, out, errOut := runCLI(t, nil, args...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errOut)
		}
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if len(lines) != 2 || !strings.HasPrefix(lines[0], "X-Signature-Ed25519: ") || lines[1] != "X-Signature-Timestamp: 1700000000" {
			t.Fatalf("output %q", out)
		}
		sig, _ := hex.DecodeString(strings.TrimPrefix(lines[0], "X-Signature-Ed25519: "))
		if !ed25519.Verify(pub, []byte("1700000000"+body), sig) {
			t.Fatal("printed signature does not verify")
		}
	}
	// The key may come from the environment.
	code, out, _ := runCLI(t, func(k string) string {
		if k == "IPCORD_PRIVATE_KEY" {
			return seed
		}
		return ""
	}, "sign", "--body", "")
	if code != 0 || !strings.Contains(out, "X-Signature-Timestamp: ") {
		t.Fatalf("key from env: %d %q", code, out)
	}
}

func TestSignErrors(t *testing.T) {
	seed := strings.Repeat("07", 32)
	tests := []struct {
		args    []string
		code    int
		errText string
	}{
		{[]string{"sign", "--body", "{}"}, 2, "usage: ipcord sign"},
		{[]string{"sign", "--private-key", seed}, 2, "usage: ipcord sign"},
		{[]string{"sign", "--private-key", seed, "--body", "{}", "--file", "x"}, 2, "usage"},
		{[]string{"sign", "--private-key", "zz", "--body", "{}"}, 1, "not hex"},
		{[]string{"sign", "--private-key", "0707", "--body", "{}"}, 1, "bad key"},
		{[]string{"sign", "--private-key", seed + strings.Repeat("00", 32), "--body", "{}"}, 1, "does not match"},
		{[]string{"sign", "--private-key", seed, "--body", "{}", "--timestamp", "-5"}, 1, "not Unix seconds"},
		{[]string{"sign", "--private-key", seed, "--file", "/nonexistent/x"}, 1, "no such file"},
	}
	for _, tt := range tests {
		code, _, errOut := runCLI(t, nil, tt.args...)
		if code != tt.code || !strings.Contains(errOut, tt.errText) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", tt.args, code, errOut, tt.code, tt.errText)
		}
	}
}
