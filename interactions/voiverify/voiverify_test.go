package voiverify_test

import (
	"crypto/ed25519"
	"encoding/hex"
	"testing"
	"time"

	"github.com/ipcord/ipcord/interactions"
	"github.com/ipcord/ipcord/interactions/voiverify"
)

// RFC 8032 section 7.1, TEST 1-3.
var rfc8032 = []struct{ public, message, signature string }{
	{"d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
		"e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"},
	{"3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
		"92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"},
	{"fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", "af82",
		"6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a"},
}

func TestRFC8032Vectors(t *testing.T) {
	for i, v := range rfc8032 {
		pub, _ := hex.DecodeString(v.public)
		msg, _ := hex.DecodeString(v.message)
		sig, _ := hex.DecodeString(v.signature)
		ver, err := voiverify.New(pub)
		if err != nil {
			t.Fatal(err)
		}
		if !ver.Verify(msg, sig) {
			t.Errorf("vector %d does not verify", i+1)
		}
		sig[63] ^= 0x10
		if ver.Verify(msg, sig) {
			t.Errorf("vector %d: altered signature verifies", i+1)
		}
		if ver.Verify(msg, sig[:63]) {
			t.Errorf("vector %d: short signature verifies", i+1)
		}
	}
}

// FuzzDifferential checks that voi with the StdLib options and
// crypto/ed25519 agree: on genuine signatures, on signatures with bits
// flipped, and on arbitrary bytes.
func FuzzDifferential(f *testing.F) {
	f.Add(make([]byte, 32), []byte("1700000000{\"type\":1}"), make([]byte, 64), make([]byte, 32))
	f.Add([]byte("0123456789abcdef0123456789abcdef"), []byte{}, []byte{1}, []byte{})
	f.Fuzz(func(t *testing.T, seed, msg, flip, rawKey []byte) {
		if len(seed) != ed25519.SeedSize {
			return
		}
		priv := ed25519.NewKeyFromSeed(seed)
		pub := priv.Public().(ed25519.PublicKey)
		sig := ed25519.Sign(priv, msg)
		for i := 0; i < len(flip) && i < len(sig); i++ {
			sig[i] ^= flip[i]
		}
		compare(t, pub, msg, sig)
		if len(rawKey) == ed25519.PublicKeySize {
			compare(t, ed25519.PublicKey(rawKey), msg, sig)
		}
	})
}

func compare(t *testing.T, pub ed25519.PublicKey, msg, sig []byte) {
	t.Helper()
	want := ed25519.Verify(pub, msg, sig)
	v, err := voiverify.New(pub)
	if err != nil {
		if want {
			t.Fatalf("voi refused key %x that crypto/ed25519 verified with", pub)
		}
		return
	}
	if got := v.Verify(msg, sig); got != want {
		t.Fatalf("disagree on key %x msg %x sig %x: voi %v, std %v", pub, msg, sig, got, want)
	}
}

// pingMessage is what a PING's verification covers: timestamp then body.
var pingMessage = []byte(`1700000000{"application_id":"123456789012345678","id":"123456789012345679","token":"aW50ZXJhY3Rpb246MTIzNDU2Nzg5MDEyMzQ1Njc5OmV4YW1wbGU","type":1,"user":{"id":"53908232506183680","username":"mason"},"version":1}`)

func benchVerifier(b *testing.B, newV func(ed25519.PublicKey) (interactions.Verifier, error)) {
	pub, priv, _ := ed25519.GenerateKey(nil)
	sig := ed25519.Sign(priv, pingMessage)
	v, err := newV(pub)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(pingMessage)))
	for b.Loop() {
		if !v.Verify(pingMessage, sig) {
			b.Fatal("does not verify")
		}
	}
}

func BenchmarkVerifyStd(b *testing.B) { benchVerifier(b, interactions.StdVerifier) }
func BenchmarkVerifyVoi(b *testing.B) { benchVerifier(b, voiverify.New) }

// BenchmarkVerifyInterleaved alternates the two verifiers on the same
// message within one loop, so load from other processes hits both alike,
// and reports each one's time and the speed-up std/voi.
func BenchmarkVerifyInterleaved(b *testing.B) {
	pub, priv, _ := ed25519.GenerateKey(nil)
	sig := ed25519.Sign(priv, pingMessage)
	std, _ := interactions.StdVerifier(pub)
	fast, err := voiverify.New(pub)
	if err != nil {
		b.Fatal(err)
	}
	var tStd, tVoi time.Duration
	b.ReportAllocs()
	for b.Loop() {
		t0 := time.Now()
		ok1 := std.Verify(pingMessage, sig)
		t1 := time.Now()
		ok2 := fast.Verify(pingMessage, sig)
		t2 := time.Now()
		if !ok1 || !ok2 {
			b.Fatal("does not verify")
		}
		tStd += t1.Sub(t0)
		tVoi += t2.Sub(t1)
	}
	b.ReportMetric(float64(tStd.Nanoseconds())/float64(b.N), "std-ns/verify")
	b.ReportMetric(float64(tVoi.Nanoseconds())/float64(b.N), "voi-ns/verify")
	b.ReportMetric(float64(tStd)/float64(tVoi), "std/voi")
}
