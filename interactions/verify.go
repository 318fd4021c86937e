package interactions

import (
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
)

// Header names Discord signs requests with.
const (
	HeaderSignature = "X-Signature-Ed25519"
	HeaderTimestamp = "X-Signature-Timestamp"
)

// Verification errors; each request that fails one is answered 401.
var (
	ErrBadPublicKey   = errors.New("interactions: public key is not 64 hex characters")
	ErrMissingHeaders = errors.New("interactions: signature headers missing or malformed")
	ErrStaleTimestamp = errors.New("interactions: timestamp outside the replay window")
	ErrBadSignature   = errors.New("interactions: signature does not verify")
)

// Verifier checks an Ed25519 signature with a key fixed at its creation.
// The default is TableVerifier; another implementation can be plugged in
// through Config.NewVerifier.
type Verifier interface {
	Verify(message, signature []byte) bool
}

// ParsePublicKey decodes the 64-hex-character public key shown in
// Discord's developer portal.
func ParsePublicKey(s string) (ed25519.PublicKey, error) {
	if len(s) != 2*ed25519.PublicKeySize {
		return nil, ErrBadPublicKey
	}
	b, err := hex.DecodeString(s)
	if err != nil {
		return nil, ErrBadPublicKey
	}
	return ed25519.PublicKey(b), nil
}

// StdVerifier returns the crypto/ed25519 Verifier for key.
func StdVerifier(key ed25519.PublicKey) (Verifier, error) {
	if len(key) != ed25519.PublicKeySize {
		return nil, ErrBadPublicKey
	}
	return stdVerifier(key), nil
}

type stdVerifier ed25519.PublicKey

// Verify reports whether sig signs message.
func (v stdVerifier) Verify(message, sig []byte) bool {
	return ed25519.Verify(ed25519.PublicKey(v), message, sig)
}

// parseHeaders checks the two signature headers' shapes and returns the
// signature bytes and the timestamp in Unix seconds.
func parseHeaders(sigHex, ts string) (sig [ed25519.SignatureSize]byte, unix int64, err error) {
	if len(sigHex) != 2*ed25519.SignatureSize || len(ts) == 0 || len(ts) > 12 {
		return sig, 0, ErrMissingHeaders
	}
	if _, err := hex.Decode(sig[:], []byte(sigHex)); err != nil {
		return sig, 0, ErrMissingHeaders
	}
	for i := 0; i < len(ts); i++ {
		c := ts[i]
		if c < '0' || c > '9' {
			return sig, 0, ErrMissingHeaders
		}
		unix = unix*10 + int64(c-'0')
	}
	return sig, unix, nil
}

// checkWindow reports ErrStaleTimestamp when ts is more than window away
// from now in either direction; window ≤ 0 accepts everything.
func checkWindow(unix int64, now time.Time, window time.Duration) error {
	if window <= 0 {
		return nil
	}
	d := now.Sub(time.Unix(unix, 0))
	if d > window || d < -window {
		return fmt.Errorf("%w: %v off", ErrStaleTimestamp, d.Round(time.Second))
	}
	return nil
}
