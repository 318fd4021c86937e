package interactions_test

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/ipcord/ipcord/discordtest"
	"github.com/ipcord/ipcord/interactions"
	"github.com/ipcord/ipcord/internal/leaktest"
)

// rfc8032 are the Ed25519 test vectors TEST 1, 2 and 3 of RFC 8032
// section 7.1.
var rfc8032 = []struct{ secret, public, message, signature string }{
	{"9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
		"d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
		"e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"},
	{"4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
		"3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
		"92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"},
	{"c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
		"fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", "af82",
		"6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a"},
}

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestRFC8032Vectors(t *testing.T) {
	for i, v := range rfc8032 {
		pub, err := interactions.ParsePublicKey(v.public)
		if err != nil {
			t.Fatal(err)
		}
		ver, _ := interactions.StdVerifier(pub)
		msg, sig := unhex(t, v.message), unhex(t, v.signature)
		if !ver.Verify(msg, sig) {
			t.Errorf("vector %d does not verify", i+1)
		}
		// The Signer, given the secret, makes the same deterministic signature.
		s, err := discordtest.NewSignerFromKey(unhex(t, v.secret))
		if err != nil || s.PublicKeyHex() != v.public {
			t.Fatalf("vector %d: signer key %v", i+1, err)
		}
		if got := hex.EncodeToString(ed25519.Sign(ed25519.NewKeyFromSeed(unhex(t, v.secret)), msg)); got != v.signature {
			t.Errorf("vector %d: signature %s", i+1, got)
		}
		sig[0] ^= 1
		if ver.Verify(msg, sig) {
			t.Errorf("vector %d: flipped bit verifies", i+1)
		}
	}
	for _, bad := range []string{"", "00", rfc8032[0].public + "00", "zz" + rfc8032[0].public[2:]} {
		if _, err := interactions.ParsePublicKey(bad); !errors.Is(err, interactions.ErrBadPublicKey) {
			t.Errorf("ParsePublicKey(%q): %v", bad, err)
		}
	}
	if _, err := interactions.New(interactions.Config{PublicKey: "nothex"}); !errors.Is(err, interactions.ErrBadPublicKey) {
		t.Errorf("New with a bad key: %v", err)
	}
	if _, err := interactions.New(interactions.Config{}); !errors.Is(err, interactions.ErrBadPublicKey) {
		t.Errorf("New without a key source: %v, want ErrBadPublicKey", err)
	}
}

// TestKeyFetchedAtStart: without a PublicKey the endpoint fetches it from
// the current application, answering 503 while that fails.
func TestKeyFetchedAtStart(t *testing.T) {
	leaktest.Check(t)
	// The fixture's fake has the key; make the first fetches fail.
	f := newFixture(t, interactions.Config{KeyRetry: 10 * time.Millisecond}, func(s *discordtest.Server) {
		s.InjectFault(discordtest.Fault{Route: "GET /applications/@me", Status: 500, Times: 3})
	})
	ping := `{"id":"1","type":1,"token":"t"}`
	// Serve started the fetch; with 10, 20, 40 ms backoffs the first
	// request almost always arrives before the key, but the test only
	// insists on a 503 if it does.
	status, _, body := f.post(ping)
	if !f.e.Ready() && (status != 503 || string(body) != `{"message":"public key not available yet"}`) {
		t.Fatalf("before the key: %d %s", status, body)
	}
	deadline := time.Now().Add(5 * time.Second)
	for !f.e.Ready() {
		if time.Now().After(deadline) {
			t.Fatal("key never fetched")
		}
		time.Sleep(5 * time.Millisecond) // polling a condition, bounded by the deadline
	}
	if status, _, body := f.post(ping); status != 200 {
		t.Fatalf("after the key: %d %s", status, body)
	}
	n := 0
	for _, r := range f.fake.Requests() {
		if r.Path == "/applications/@me" {
			n++
			if r.Header.Get("Authorization") != "Bot bot-token" {
				t.Fatal("key fetch without the bot token")
			}
		}
	}
	if n != 4 {
		t.Fatalf("%d fetches, want 3 failures and 1 success", n)
	}
}

// TestHandleCore drives the framework-neutral core without net/http.
func TestHandleCore(t *testing.T) {
	leaktest.Check(t)
	signer, _ := discordtest.NewSigner()
	e, err := interactions.New(interactions.Config{PublicKey: signer.PublicKeyHex(), MaxBodyBytes: 100})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Shutdown(context.Background())
	body := []byte(`{"id":"1","type":1,"token":"t"}`)
	sig, ts := signer.Headers(body)
	if r := e.Handle(t.Context(), sig, ts, body); r.Status != http.StatusOK || string(r.Body) != `{"type":1}` || r.ContentType != "application/json" {
		t.Fatalf("ping: %+v", r)
	}
	if r := e.Handle(t.Context(), sig, ts, append(body, ' ')); r.Status != 401 {
		t.Fatalf("tampered: %d", r.Status)
	}
	big := make([]byte, 101)
	bsig, bts := signer.Headers(big)
	if r := e.Handle(t.Context(), bsig, bts, big); r.Status != 413 {
		t.Fatalf("big: %d", r.Status)
	}
}

// TestKeyUnavailable: while the key cannot be fetched, every request gets
// 503 and no listener runs.
func TestKeyUnavailable(t *testing.T) {
	leaktest.Check(t)
	f := newFixture(t, interactions.Config{KeyRetry: 5 * time.Millisecond}, func(s *discordtest.Server) {
		s.InjectFault(discordtest.Fault{Route: "GET /applications/@me", Status: 503, Times: 1 << 30})
	})
	called := false
	f.e.Command(1, "ping", func(context.Context, *interactions.Event) (*interactions.Response, error) {
		called = true
		return interactions.Reply("x"), nil
	})
	for range 3 {
		status, _, body := f.post(command("ping", ""))
		if status != 503 || string(body) != `{"message":"public key not available yet"}` || called {
			t.Fatalf("without a key: %d %s called=%v", status, body, called)
		}
	}
	if f.e.Ready() {
		t.Fatal("ready without a key")
	}
}

// TestHandleSentOrdersDeliveries: through the core, a late answer waits
// for Sent, so it cannot overtake the defer the adapter is writing.
func TestHandleSentOrdersDeliveries(t *testing.T) {
	leaktest.Check(t)
	f := newFixture(t, interactions.Config{DeferAfter: 50 * time.Millisecond})
	release := make(chan struct{})
	f.e.Command(1, "slow", slow(release, interactions.Reply("late")))
	body := []byte(command("slow", ""))
	sig, ts := f.signer.Headers(body)
	since := time.Now()
	res := f.e.Handle(t.Context(), sig, ts, body)
	if res.Status != 200 || string(res.Body) != `{"type":5}` || res.Sent == nil {
		t.Fatalf("defer: %d %s sent=%v", res.Status, res.Body, res.Sent != nil)
	}
	close(release)
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	if _, err := f.fake.Wait(ctx, func(r discordtest.Request) bool { return !r.Received.Before(since) }); err == nil {
		t.Fatal("late answer delivered before Sent was called")
	}
	res.Sent()
	f.waitRequest("PATCH /webhooks/11/tok/messages/@original")
}
