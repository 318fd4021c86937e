package natsipc_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"testing"
	"time"

	"github.com/ipcord/ipcord/internal/leaktest"
	"github.com/ipcord/ipcord/internal/natstest"
	"github.com/ipcord/ipcord/ipc/natsipc"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// selfSigned returns a certificate for 127.0.0.1 and a pool that trusts it.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "ipcord test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert}, pool
}

// TLS is NATS's own too: Connect passes the caller's TLS options through,
// and a node that does not trust the server's certificate cannot join.
func TestConnectPassesTLSOptions(t *testing.T) {
	leaktest.Check(t)
	cert, pool := selfSigned(t)
	url := natstest.Start(t, &server.Options{
		TLS: true, TLSTimeout: 5,
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12},
	}).ClientURL()
	if n, err := natsipc.Connect(url, natsipc.Config{}, nats.MaxReconnects(0)); err == nil {
		n.Close()
		t.Fatal("joined a TLS server without trusting its certificate")
	}
	trust := nats.Secure(&tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12})
	n, err := natsipc.Connect(url, natsipc.Config{}, trust)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	if !n.Conn().TLSRequired() {
		t.Fatal("the connection is not TLS")
	}
	pingThrough(t, url, trust)
}
