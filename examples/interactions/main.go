package main

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/ipcord/ipcord/discord"
	"github.com/ipcord/ipcord/interactions"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))

	ep, err := interactions.New(interactions.Config{PublicKey: os.Getenv("IPCORD_PUBLIC_KEY"), Logger: log})
	if err != nil {
		log.Error("config", "err", err)
		os.Exit(1)
	}
	err = errors.Join(
		ep.Command(discord.CommandChatInput, "hello", hello),
		ep.ComponentPrefix("hello:", again),
		ep.Command(discord.CommandChatInput, "report", report, interactions.Ephemeral),
	)
	if err != nil { // a name registered twice
		log.Error("listeners", "err", err)
		os.Exit(1)
	}

	mux := http.NewServeMux()
	mux.Handle("POST /interactions", ep)
	srv := &http.Server{Addr: "127.0.0.1:8081", Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
		ep.Shutdown(sctx) // lets running listeners finish their follow-ups
	}()
	log.Info("listening", "addr", srv.Addr)
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Error("serve", "err", err)
		os.Exit(1)
	}
	<-stopped // ListenAndServe returns as soon as Shutdown starts
}

func hello(ctx context.Context, ev *interactions.Event) (*interactions.Response, error) {
	return interactions.Reply("Hello, " + ev.Interaction.Author().DisplayName() + "!").
		WithComponents(discord.ActionRow(discord.Button(discord.ButtonPrimary, "Again", "hello:again"))), nil
}

func again(ctx context.Context, ev *interactions.Event) (*interactions.Response, error) {
	return interactions.Update("Hello again!"), nil
}

// report takes longer than Discord's 3 s: the endpoint answers "thinking..."
// at 2 s (ephemeral, as registered) and edits the message when this returns.
func report(ctx context.Context, ev *interactions.Event) (*interactions.Response, error) {
	select {
	case <-time.After(5 * time.Second):
		return interactions.Reply("Report ready."), nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
