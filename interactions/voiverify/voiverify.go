package voiverify

import (
	"crypto/ed25519"
	"errors"
	"fmt"

	"github.com/ipcord/ipcord/interactions"
	voi "github.com/oasisprotocol/curve25519-voi/primitives/ed25519"
)

// ErrBadKey is returned (wrapped) for a public key that is not a valid
// Ed25519 point.
var ErrBadKey = errors.New("voiverify: bad public key")

// stdLib makes voi accept exactly the signatures crypto/ed25519 accepts.
var stdLib = &voi.Options{Verify: voi.VerifyOptionsStdLib}

type verifier struct{ key *voi.ExpandedPublicKey }

// New returns a Verifier for key with the key's curve point precomputed,
// which is where voi's speed-up for a fixed key comes from.
func New(key ed25519.PublicKey) (interactions.Verifier, error) {
	if len(key) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("%w: %d bytes", ErrBadKey, len(key))
	}
	x, err := voi.NewExpandedPublicKey(voi.PublicKey(key))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadKey, err)
	}
	return verifier{x}, nil
}

// Verify reports whether sig signs message.
func (v verifier) Verify(message, sig []byte) bool {
	if len(sig) != ed25519.SignatureSize {
		return false
	}
	return voi.VerifyExpandedWithOptions(v.key, message, sig, stdLib)
}
