package ipc

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"
)

// ErrTLS matches a connection refused by TLS: a certificate that does not
// verify (unknown authority, wrong name, expired) or a peer that rejected
// ours. Retrying does not help, so Dial returns it at once.
var ErrTLS = errors.New("ipc: TLS handshake failed")

// ErrTLSConfig matches TLS settings that cannot be used: a certificate or
// key file that cannot be read or parsed, a CA file without certificates.
var ErrTLSConfig = errors.New("ipc: bad TLS configuration")

// TLS makes a Server serve wss:// from Serve and ListenAndServe. The zero
// value serves plain ws://. A Server mounted as an http.Handler uses
// whatever TLS the enclosing http.Server has instead.
type TLS struct {
	// CertFile and KeyFile are PEM files holding the certificate chain
	// and its private key.
	CertFile, KeyFile string
	// Config is the base configuration, for what the files do not cover
	// (certificates from memory, GetCertificate, client authentication).
	// It is cloned, never modified.
	Config *tls.Config
	// ClientCAFile is a PEM file of the authorities that sign client
	// certificates; when set, every client must present a certificate
	// signed by one of them.
	ClientCAFile string
}

func (t TLS) enabled() bool {
	return t.CertFile != "" || t.KeyFile != "" || t.Config != nil || t.ClientCAFile != ""
}

// serverConfig builds the listener's configuration from t.
func (t TLS) serverConfig() (*tls.Config, error) {
	cfg := t.Config.Clone()
	if cfg == nil {
		cfg = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	if t.CertFile != "" || t.KeyFile != "" {
		cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrTLSConfig, err)
		}
		cfg.Certificates = append(cfg.Certificates, cert)
	}
	if len(cfg.Certificates) == 0 && cfg.GetCertificate == nil && cfg.GetConfigForClient == nil {
		return nil, fmt.Errorf("%w: no server certificate (set CertFile and KeyFile)", ErrTLSConfig)
	}
	if t.ClientCAFile != "" {
		pool, err := LoadCertPool(t.ClientCAFile)
		if err != nil {
			return nil, err
		}
		cfg.ClientCAs = pool
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
	}
	// WebSocket upgrades need HTTP/1.1: never let ALPN pick h2.
	cfg.NextProtos = []string{"http/1.1"}
	return cfg, nil
}

// serveHTTP serves h on ln, over TLS when t is set, until the http.Server
// is closed. add registers the http.Server with its owner (and gives it
// the listener's ws:// or wss:// URL) before serving; false means the owner
// is shutting down. net/http's own messages (TLS handshake errors) go to
// logger at debug level: silent by default, never to the standard logger.
func serveHTTP(ln net.Listener, h http.Handler, t TLS, timeout time.Duration, logger *slog.Logger, add func(hs *http.Server, url string) bool) error {
	scheme := "ws://"
	if t.enabled() {
		cfg, err := t.serverConfig()
		if err != nil {
			ln.Close()
			return err
		}
		ln, scheme = tls.NewListener(ln, cfg), "wss://"
	}
	hs := &http.Server{Handler: h, ReadHeaderTimeout: timeout, ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelDebug)}
	if !add(hs, scheme+ln.Addr().String()) {
		ln.Close()
		return ErrClosed
	}
	err := hs.Serve(ln)
	if errors.Is(err, http.ErrServerClosed) {
		return ErrClosed
	}
	return err
}

// ClientTLS is what a Client adds to its TLS configuration for wss:// URLs.
// The zero value verifies the server against the system's roots.
type ClientTLS struct {
	// CAFile is a PEM file of the authorities to trust instead of the
	// system's roots (a private CA, a self-signed server certificate).
	CAFile string
	// ServerName is the name the server's certificate must carry.
	// Default: the URL's host.
	ServerName string
	// CertFile and KeyFile are a client certificate and key (PEM), for
	// servers that require one.
	CertFile, KeyFile string
}

// config returns base extended by t; base is cloned, never modified.
func (t ClientTLS) config(base *tls.Config) (*tls.Config, error) {
	cfg := base.Clone()
	if cfg == nil {
		cfg = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	if t.CAFile != "" {
		pool, err := LoadCertPool(t.CAFile)
		if err != nil {
			return nil, err
		}
		cfg.RootCAs = pool
	}
	if t.ServerName != "" {
		cfg.ServerName = t.ServerName
	}
	if t.CertFile != "" || t.KeyFile != "" {
		cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrTLSConfig, err)
		}
		cfg.Certificates = append(cfg.Certificates, cert)
	}
	cfg.NextProtos = []string{"http/1.1"}
	return cfg, nil
}

// LoadCertPool reads PEM certificates from files into a pool, for
// tls.Config.RootCAs or ClientCAs. A file without any certificate is an
// error wrapping ErrTLSConfig.
func LoadCertPool(files ...string) (*x509.CertPool, error) {
	pool := x509.NewCertPool()
	for _, f := range files {
		pem, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrTLSConfig, err)
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%w: no PEM certificate in %s", ErrTLSConfig, f)
		}
	}
	return pool, nil
}

// tlsRefusal wraps err in ErrTLS when TLS itself refused the connection:
// our verification of the peer's certificate failed, or the peer sent an
// alert (it rejected our certificate, or our lack of one).
func tlsRefusal(err error) error {
	var ve *tls.CertificateVerificationError
	var alert tls.AlertError
	var oe *net.OpError
	// crypto/tls reports an alert from the peer as a *net.OpError with
	// Op "remote error" (tls.AlertError is for QUIC only).
	if errors.As(err, &ve) || errors.As(err, &alert) || errors.As(err, &oe) && oe.Op == "remote error" {
		return fmt.Errorf("%w: %w", ErrTLS, err)
	}
	return err
}
