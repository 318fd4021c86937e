package interactions_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/ipcord/ipcord/discordtest"
	"github.com/ipcord/ipcord/interactions"
	"github.com/ipcord/ipcord/internal/leaktest"
)

// TestServeTLS serves HTTPS with Config.TLSConfig and stops with ctx.
func TestServeTLS(t *testing.T) {
	leaktest.Check(t)
	// httptest makes a self-signed certificate and a client that trusts it.
	certSrv := httptest.NewUnstartedServer(http.NotFoundHandler())
	certSrv.StartTLS()
	tlsConfig, client := certSrv.TLS.Clone(), certSrv.Client()
	certSrv.Close()
	defer client.CloseIdleConnections()

	signer, _ := discordtest.NewSigner()
	e, err := interactions.New(interactions.Config{PublicKey: signer.PublicKeyHex(), TLSConfig: tlsConfig})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	served := make(chan error, 1)
	go func() { served <- e.Serve(ctx, ln) }()

	req, _ := signer.NewRequest(t.Context(), "https://"+ln.Addr().String()+"/", []byte(`{"id":"1","type":1,"token":"t"}`))
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != `{"type":1}` || resp.TLS == nil {
		t.Fatalf("%d %s tls=%v", resp.StatusCode, body, resp.TLS != nil)
	}
	cancel()
	select {
	case err := <-served:
		if err != nil {
			t.Fatalf("serve after ctx ended: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return when ctx ended")
	}
	if err := e.Shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
	ln2, _ := net.Listen("tcp", "127.0.0.1:0")
	if err := e.Serve(t.Context(), ln2); !errors.Is(err, interactions.ErrClosed) {
		t.Fatalf("Serve after Shutdown: %v", err)
	}
}
