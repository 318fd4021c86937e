package main

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/ipcord/ipcord/discordtest"
)

func init() {
	register(&command{name: "sign", summary: "print Discord signature headers for a body", run: runSign})
}

// runSign signs a body as Discord signs interactions, for driving an
// endpoint with curl.
func runSign(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "sign", "--private-key HEX [--timestamp T] (--body JSON | --file F)")
	key := fs.String("private-key", "", "64-hex seed or 128-hex seed‖public key (default $IPCORD_PRIVATE_KEY)")
	ts := fs.String("timestamp", "", "X-Signature-Timestamp value, Unix seconds (default now)")
	body := fs.String("body", "", "the request body")
	file := fs.String("file", "", "read the request body from this file")
	pos, err := fs.Parse(args)
	if err != nil {
		return err
	}
	if *key == "" {
		*key = e.getenv("IPCORD_PRIVATE_KEY")
	}
	switch {
	case len(pos) > 0:
		return fs.Fail("unexpected argument %q", pos[0])
	case *key == "":
		return fs.Fail("no private key: pass --private-key HEX or set IPCORD_PRIVATE_KEY")
	case fs.Given("body") == (*file != ""):
		return fs.Fail("give the body with either --body or --file")
	}
	raw, err := hex.DecodeString(*key)
	if err != nil {
		return errors.New("--private-key is not hex")
	}
	signer, err := discordtest.NewSignerFromKey(raw)
	if err != nil {
		return err
	}
	data := []byte(*body)
	if *file != "" {
		if data, err = os.ReadFile(*file); err != nil {
			return err
		}
	}
	if *ts == "" {
		*ts = strconv.FormatInt(time.Now().Unix(), 10)
	} else if n, err := strconv.ParseUint(*ts, 10, 63); err != nil || strconv.FormatUint(n, 10) != *ts {
		return fmt.Errorf("--timestamp %q is not Unix seconds", *ts)
	}
	fmt.Fprintf(e.stdout, "%s: %s\n%s: %s\n", discordtest.HeaderSignature, signer.Sign(*ts, data), discordtest.HeaderTimestamp, *ts)
	return nil
}
