package interactions_test

import (
	"crypto/ed25519"
	"encoding/hex"
	"slices"
	"testing"
	"time"

	"github.com/ipcord/ipcord/interactions"
)

func TestTableVerifierVectors(t *testing.T) {
	for i, v := range rfc8032 {
		pub, _ := interactions.ParsePublicKey(v.public)
		ver, err := interactions.TableVerifier(pub)
		if err != nil {
			t.Fatal(err)
		}
		msg, sig := unhex(t, v.message), unhex(t, v.signature)
		if !ver.Verify(msg, sig) {
			t.Errorf("vector %d does not verify", i+1)
		}
		for _, bad := range [][]byte{sig[:63], append(sig[:64:64], 0)} {
			if ver.Verify(msg, bad) {
				t.Errorf("vector %d: signature of %d bytes verifies", i+1, len(bad))
			}
		}
		// S + L: the same point but not canonical, which crypto/ed25519
		// refuses (malleability).
		sl := append([]byte(nil), sig...)
		addL(sl[32:])
		compare(t, pub, msg, sl)
		sig[0] ^= 1
		if ver.Verify(msg, sig) {
			t.Errorf("vector %d: altered signature verifies", i+1)
		}
	}
	// Keys that are not curve points are refused when the verifier is made.
	if _, err := interactions.TableVerifier(unhex(t, "0200000000000000000000000000000000000000000000000000000000000000")); err == nil {
		t.Error("a y with no x accepted")
	}
	// The identity and other small-order keys decode; they must agree too.
	for _, k := range []string{
		"0100000000000000000000000000000000000000000000000000000000000000",
		"ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
		"c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
	} {
		key := unhex(t, k)
		compare(t, key, []byte("m"), make([]byte, 64))
		sig := make([]byte, 64)
		copy(sig, key) // R = A, S = 0: valid for the identity
		compare(t, key, []byte("m"), sig)
	}
}

// addL adds the group order L to a 32-byte little-endian scalar in place.
func addL(s []byte) {
	l, _ := hex.DecodeString("edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010")
	carry := 0
	for i := range 32 {
		x := int(s[i]) + int(l[i]) + carry
		s[i], carry = byte(x), x>>8
	}
}

// compare checks that TableVerifier and crypto/ed25519 agree on one
// signature, including refusing the same keys.
func compare(t *testing.T, pub ed25519.PublicKey, msg, sig []byte) {
	t.Helper()
	want := ed25519.Verify(pub, msg, sig)
	v, err := interactions.TableVerifier(pub)
	if err != nil {
		if want {
			t.Fatalf("key %x refused but crypto/ed25519 verified with it", pub)
		}
		return
	}
	if got := v.Verify(msg, sig); got != want {
		t.Fatalf("disagree on key %x msg %x sig %x: table %v, crypto/ed25519 %v", pub, msg, sig, got, want)
	}
}

// FuzzTableVerifier is the differential test: TableVerifier and
// crypto/ed25519 must agree on genuine signatures, signatures with bits
// flipped, and arbitrary keys and signatures.
func FuzzTableVerifier(f *testing.F) {
	f.Add(make([]byte, 32), []byte(`1700000000{"type":1}`), make([]byte, 64), make([]byte, 32), make([]byte, 64))
	f.Add([]byte("0123456789abcdef0123456789abcdef"), []byte{}, []byte{1}, []byte{}, []byte{})
	f.Fuzz(func(t *testing.T, seed, msg, flip, rawKey, rawSig []byte) {
		if len(seed) != ed25519.SeedSize {
			return
		}
		priv := ed25519.NewKeyFromSeed(seed)
		pub := priv.Public().(ed25519.PublicKey)
		sig := ed25519.Sign(priv, msg)
		compare(t, pub, msg, sig)
		for i := 0; i < len(flip) && i < len(sig); i++ {
			sig[i] ^= flip[i]
		}
		compare(t, pub, msg, sig)
		compare(t, pub, msg, rawSig)
		if len(rawKey) == ed25519.PublicKeySize {
			compare(t, rawKey, msg, sig)
			compare(t, rawKey, msg, rawSig)
		}
	})
}

// BenchmarkVerifyTableInterleaved alternates crypto/ed25519 and
// TableVerifier on a PING's signed message inside one loop, so load from
// other processes hits both alike, and reports each one's median time per
// verification and the ratio of the medians.
func BenchmarkVerifyTableInterleaved(b *testing.B) {
	pub, priv, _ := ed25519.GenerateKey(nil)
	msg := append([]byte("1700000000"), benchPing...)
	sig := ed25519.Sign(priv, msg)
	std, _ := interactions.StdVerifier(pub)
	fast, _ := interactions.TableVerifier(pub)
	var tStd, tFast []time.Duration
	b.ReportAllocs()
	for b.Loop() {
		t0 := time.Now()
		ok1 := std.Verify(msg, sig)
		t1 := time.Now()
		ok2 := fast.Verify(msg, sig)
		t2 := time.Now()
		if !ok1 || !ok2 {
			b.Fatal("does not verify")
		}
		tStd = append(tStd, t1.Sub(t0))
		tFast = append(tFast, t2.Sub(t1))
	}
	slices.Sort(tStd)
	slices.Sort(tFast)
	mStd, mFast := tStd[len(tStd)/2], tFast[len(tFast)/2]
	b.ReportMetric(float64(mStd.Nanoseconds()), "std-ns/verify")
	b.ReportMetric(float64(mFast.Nanoseconds()), "table-ns/verify")
	b.ReportMetric(float64(mStd)/float64(mFast), "std/table")
}
