package ipc_test

import (
	"context"
	"errors"
	"log"

	"github.com/ipcord/ipcord/ipc"
)

// A bot serving wss:// with a certificate from a private CA, and a
// dashboard that trusts that CA. (Not run: it needs the PEM files.)
func ExampleClientTLS() {
	srv := &ipc.Server{Secret: "s3cret", TLS: ipc.TLS{CertFile: "bot.pem", KeyFile: "bot-key.pem"}}
	go srv.ListenAndServe("0.0.0.0:8765")

	c, err := ipc.Dial(context.Background(), ipc.ClientConfig{
		URL:    "wss://bot.internal:8765",
		Secret: "s3cret",
		TLS:    ipc.ClientTLS{CAFile: "ca.pem"},
	})
	if errors.Is(err, ipc.ErrTLS) {
		log.Fatalf("the bot's certificate does not verify: %v", err)
	}
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
}
