package discordtest

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// Header names of Discord's interaction signature.
const (
	HeaderSignature = "X-Signature-Ed25519"
	HeaderTimestamp = "X-Signature-Timestamp"
)

// ErrBadKey is returned (wrapped) for a seed or key of the wrong size.
var ErrBadKey = errors.New("discordtest: bad key")

// Signer signs interaction requests as Discord does: Ed25519 over the
// timestamp header's bytes followed by the body.
type Signer struct {
	key ed25519.PrivateKey
	// Now gives the signing time; nil means time.Now.
	Now func() time.Time
}

// NewSigner returns a Signer with a fresh random key pair.
func NewSigner() (*Signer, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("discordtest: generate key: %w", err)
	}
	return &Signer{key: priv}, nil
}

// NewSignerFromKey returns a Signer for a 32-byte seed or a 64-byte
// seed‖public key (which must match the seed).
func NewSignerFromKey(key []byte) (*Signer, error) {
	switch len(key) {
	case ed25519.SeedSize:
		return &Signer{key: ed25519.NewKeyFromSeed(key)}, nil
	case ed25519.PrivateKeySize:
		priv := ed25519.NewKeyFromSeed(key[:ed25519.SeedSize])
		if !bytes.Equal(priv[ed25519.SeedSize:], key[ed25519.SeedSize:]) {
			return nil, fmt.Errorf("%w: public half does not match the seed", ErrBadKey)
		}
		return &Signer{key: priv}, nil
	}
	return nil, fmt.Errorf("%w: %d bytes, want 32 (seed) or 64 (seed and public key)", ErrBadKey, len(key))
}

// PublicKey returns the key an endpoint verifies with.
func (s *Signer) PublicKey() ed25519.PublicKey { return s.key.Public().(ed25519.PublicKey) }

// PublicKeyHex returns the public key as the 64 hex characters Discord
// shows in the developer portal.
func (s *Signer) PublicKeyHex() string { return hex.EncodeToString(s.PublicKey()) }

// Sign returns the hex signature of timestamp followed by body.
func (s *Signer) Sign(timestamp string, body []byte) string {
	msg := make([]byte, 0, len(timestamp)+len(body))
	msg = append(append(msg, timestamp...), body...)
	return hex.EncodeToString(ed25519.Sign(s.key, msg))
}

// Headers returns the signature and the timestamp (Unix seconds, now) for
// body.
func (s *Signer) Headers(body []byte) (signature, timestamp string) {
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	timestamp = strconv.FormatInt(now().Unix(), 10)
	return s.Sign(timestamp, body), timestamp
}

// NewRequest returns a signed POST of body to url, as Discord sends an
// interaction.
func (s *Signer) NewRequest(ctx context.Context, url string, body []byte) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Discord-Interactions/1.0 (+https://discord.com)")
	sig, ts := s.Headers(body)
	req.Header.Set(HeaderSignature, sig)
	req.Header.Set(HeaderTimestamp, ts)
	return req, nil
}
