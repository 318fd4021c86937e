package ipc_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ipcord/ipcord/internal/leaktest"
	"github.com/ipcord/ipcord/ipc"
)

// testCA is a certificate authority made for one test.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	file string // PEM of cert
}

func newTestCA(t *testing.T, name string) *testCA {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		KeyUsage:              x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	ca := &testCA{cert: cert, key: key, file: filepath.Join(t.TempDir(), name+"-ca.pem")}
	writePEM(t, ca.file, "CERTIFICATE", der)
	return ca
}

// issue makes a leaf certificate for the names (DNS names or IPs) and
// returns its certificate and key files.
func (ca *testCA) issue(t *testing.T, usage x509.ExtKeyUsage, names ...string) (certFile, keyFile string) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: names[0]},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{usage},
	}
	for _, n := range names {
		if ip := net.ParseIP(n); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, n)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	writePEM(t, certFile, "CERTIFICATE", der)
	kb, _ := x509.MarshalECPrivateKey(key)
	writePEM(t, keyFile, "EC PRIVATE KEY", kb)
	return certFile, keyFile
}

func writePEM(t *testing.T, file, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(file, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

// startTLSServer serves a ping route over wss:// on 127.0.0.1.
func startTLSServer(t *testing.T, tl ipc.TLS) string {
	t.Helper()
	r := ipc.NewRouter()
	r.HandleFunc("who", func(ctx context.Context, req *ipc.Request) (any, error) { return req.Peer, nil })
	srv := &ipc.Server{Router: r, Secret: secret, TLS: tl}
	u := startServer(t, srv)
	waitFor(t, 5*time.Second, "Serve to start", func() bool { return srv.URL() != "" })
	if !strings.HasPrefix(srv.URL(), "wss://") {
		t.Fatalf("URL() = %q, want wss://", srv.URL())
	}
	return strings.Replace(u, "ws://", "wss://", 1)
}

func dialErr(cfg ipc.ClientConfig) error {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	c, err := ipc.Dial(ctx, cfg)
	if err == nil {
		c.Close()
	}
	return err
}

func TestTLS(t *testing.T) {
	leaktest.Check(t)
	ca := newTestCA(t, "good")
	cert, key := ca.issue(t, x509.ExtKeyUsageServerAuth, "127.0.0.1", "ipc.test")
	u := startTLSServer(t, ipc.TLS{CertFile: cert, KeyFile: key})

	t.Run("trusted CA", func(t *testing.T) {
		c := dial(t, ipc.ClientConfig{URL: u, Identifier: "tls-ok", TLS: ipc.ClientTLS{CAFile: ca.file}})
		var who string
		if err := c.Call(ctxTimeout(t, 5*time.Second), "who", nil, &who); err != nil || who != "tls-ok" {
			t.Fatalf("call over wss: %q, %v", who, err)
		}
	})
	t.Run("server name override", func(t *testing.T) {
		c := dial(t, ipc.ClientConfig{URL: u, TLS: ipc.ClientTLS{CAFile: ca.file, ServerName: "ipc.test"}})
		if err := c.Call(ctxTimeout(t, 5*time.Second), "who", nil, nil); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("tls.Config pool", func(t *testing.T) {
		pool, err := ipc.LoadCertPool(ca.file)
		if err != nil {
			t.Fatal(err)
		}
		dial(t, ipc.ClientConfig{URL: u, TLSConfig: &tls.Config{RootCAs: pool}})
	})
	t.Run("unknown CA", func(t *testing.T) {
		other := newTestCA(t, "other")
		start := time.Now()
		err := dialErr(ipc.ClientConfig{URL: u, Secret: secret, TLS: ipc.ClientTLS{CAFile: other.file}})
		var ua x509.UnknownAuthorityError
		if !errors.Is(err, ipc.ErrTLS) || !errors.As(err, &ua) {
			t.Fatalf("Dial with an unknown CA: %v, want ErrTLS wrapping x509.UnknownAuthorityError", err)
		}
		if time.Since(start) > 2*time.Second {
			t.Errorf("Dial retried a certificate error for %v; it is permanent", time.Since(start))
		}
	})
	t.Run("wrong name", func(t *testing.T) {
		err := dialErr(ipc.ClientConfig{URL: u, Secret: secret, TLS: ipc.ClientTLS{CAFile: ca.file, ServerName: "elsewhere.test"}})
		var he x509.HostnameError
		if !errors.Is(err, ipc.ErrTLS) || !errors.As(err, &he) {
			t.Fatalf("Dial with a wrong name: %v, want ErrTLS wrapping x509.HostnameError", err)
		}
	})
	t.Run("plain ws to a TLS server", func(t *testing.T) {
		err := dialErr(ipc.ClientConfig{URL: strings.Replace(u, "wss://", "ws://", 1), Secret: secret})
		if err == nil {
			t.Fatal("plain ws:// to a wss:// server succeeded")
		}
	})
	t.Run("bad CA file", func(t *testing.T) {
		err := dialErr(ipc.ClientConfig{URL: u, Secret: secret, TLS: ipc.ClientTLS{CAFile: cert + ".missing"}})
		if !errors.Is(err, ipc.ErrTLSConfig) {
			t.Fatalf("Dial with a missing CA file: %v, want ErrTLSConfig", err)
		}
	})
}

func TestTLSClientCertificate(t *testing.T) {
	leaktest.Check(t)
	ca := newTestCA(t, "srv")
	clientCA := newTestCA(t, "clients")
	cert, key := ca.issue(t, x509.ExtKeyUsageServerAuth, "127.0.0.1")
	u := startTLSServer(t, ipc.TLS{CertFile: cert, KeyFile: key, ClientCAFile: clientCA.file})

	ccert, ckey := clientCA.issue(t, x509.ExtKeyUsageClientAuth, "dashboard")
	c := dial(t, ipc.ClientConfig{URL: u, TLS: ipc.ClientTLS{CAFile: ca.file, CertFile: ccert, KeyFile: ckey}})
	if err := c.Call(ctxTimeout(t, 5*time.Second), "who", nil, nil); err != nil {
		t.Fatalf("call with a client certificate: %v", err)
	}

	start := time.Now()
	err := dialErr(ipc.ClientConfig{URL: u, Secret: secret, TLS: ipc.ClientTLS{CAFile: ca.file}})
	if !errors.Is(err, ipc.ErrTLS) {
		t.Fatalf("Dial without a client certificate: %v, want ErrTLS", err)
	}
	if time.Since(start) > 2*time.Second {
		t.Errorf("Dial retried a refused client certificate for %v", time.Since(start))
	}

	// A certificate from another authority is refused too.
	other := newTestCA(t, "rogue")
	rcert, rkey := other.issue(t, x509.ExtKeyUsageClientAuth, "dashboard")
	err = dialErr(ipc.ClientConfig{URL: u, Secret: secret, TLS: ipc.ClientTLS{CAFile: ca.file, CertFile: rcert, KeyFile: rkey}})
	if !errors.Is(err, ipc.ErrTLS) {
		t.Fatalf("Dial with a rogue client certificate: %v, want ErrTLS", err)
	}
}

func TestTLSBadServerConfig(t *testing.T) {
	srv := &ipc.Server{TLS: ipc.TLS{CertFile: "/nonexistent/cert.pem", KeyFile: "/nonexistent/key.pem"}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Serve(ln); !errors.Is(err, ipc.ErrTLSConfig) {
		t.Fatalf("Serve with missing certificate files: %v, want ErrTLSConfig", err)
	}
	if _, err := net.Dial("tcp", ln.Addr().String()); err == nil {
		t.Error("the listener is still open after Serve failed")
	}
}
