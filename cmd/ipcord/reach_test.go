package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ipcord/ipcord/internal/leaktest"
)

// selfSigned writes a self-signed certificate for 127.0.0.1, which is its
// own CA file, and returns the certificate and key files.
func selfSigned(t *testing.T) (certFile, keyFile string) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "ipcord test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(key)
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
	return certFile, keyFile
}

type cliCase struct {
	args     []string
	code     int
	out, err string
}

func runCases(t *testing.T, cases []cliCase) {
	t.Helper()
	for _, tt := range cases {
		e, out, errb := testEnv(nil)
		code := runMain(context.Background(), e, tt.args)
		if code != tt.code || strings.TrimSpace(out.String()) != tt.out || !strings.Contains(errb.String(), tt.err) {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want exit %d, stdout %q, stderr containing %q",
				tt.args, code, out.String(), errb.String(), tt.code, tt.out, tt.err)
		}
	}
}

func TestServeCallDiscover(t *testing.T) {
	leaktest.Check(t)
	// serve prints its discovery address first, then its own.
	got := startServe(t, regexp.MustCompile(`(?s)discovery on http://([0-9.:]+).*on ws://`), "--discovery-addr", "127.0.0.1:0")
	disc := got[1]
	runCases(t, []cliCase{
		{[]string{"call", "--discover", disc, "--secret", "s3", "ping", "n=3"}, 0, `{"n":3,"ok":true}`, ""},
		{[]string{"call", "--discover", disc, "--name", "t", "--secret", "s3", "ping"}, 0, `{"n":0,"ok":true}`, ""},
		{[]string{"call", "--discover", disc, "--name", "other", "--secret", "s3", "ping"}, 1, "", `"other" (servers: t)`},
		{[]string{"call", "--discover", disc, "--secret", "wrong", "ping"}, 1, "", "unauthorized"},
		{[]string{"routes", "--discover", disc, "--secret", "s3"}, 0, "echo\nfail\nipcord.forward\nping\nsleep", ""},
	})
}

func TestServeCallTLS(t *testing.T) {
	leaktest.Check(t)
	cert, key := selfSigned(t)
	got := startServe(t, regexp.MustCompile(`(?s)discovery on https://([0-9.:]+).*on (wss://[0-9.:]+)`),
		"--tls-cert", cert, "--tls-key", key, "--discovery-addr", "127.0.0.1:0")
	disc, u := got[1], got[2]
	runCases(t, []cliCase{
		{[]string{"call", "--url", u, "--ca", cert, "--secret", "s3", "ping", "n=1"}, 0, `{"n":1,"ok":true}`, ""},
		{[]string{"call", "--discover", disc, "--ca", cert, "--secret", "s3", "ping", "n=2"}, 0, `{"n":2,"ok":true}`, ""},
		{[]string{"call", "--url", u, "--secret", "s3", "ping"}, 1, "", "certificate"},
	})
	e, _, errb := testEnv(nil)
	if code := runMain(context.Background(), e, []string{"serve", "--addr", "127.0.0.1:0", "--secret", "s", "--tls-cert", cert}); code == 0 || !strings.Contains(errb.String(), "--tls-key") {
		t.Errorf("serve with --tls-cert alone: exit %d, stderr %q", code, errb.String())
	}
}
