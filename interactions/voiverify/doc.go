// Package voiverify is an optional interactions.Verifier built on
// github.com/oasisprotocol/curve25519-voi with a precomputed (expanded)
// public key. It lives in its own module so that ipcord's main module stays
// on the standard library.
//
// It verifies with voi's "StdLib" options, which accept exactly what
// crypto/ed25519 accepts; the package's tests check this on the RFC 8032
// vectors and in a differential fuzz test against crypto/ed25519.
//
// Use it as interactions.Config{NewVerifier: voiverify.New}.
package voiverify
