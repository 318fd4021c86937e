package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"fmt"
)

func init() {
	register(&command{name: "keygen", summary: "print an Ed25519 key pair for sign and interactions", run: runKeygen})
}

// runKeygen prints a fresh key pair as the environment variables ipcord
// interactions (the public key) and ipcord sign (the private seed) read,
// so `export $(ipcord keygen)` sets both.
func runKeygen(_ context.Context, e *env, args []string) error {
	fs := newFlags(e, "keygen", "")
	pos, err := fs.Parse(args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return fs.Fail("unexpected argument %q", pos[0])
	}
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "IPCORD_PUBLIC_KEY=%s\nIPCORD_PRIVATE_KEY=%s\n", hex.EncodeToString(pub), hex.EncodeToString(priv.Seed()))
	return nil
}
