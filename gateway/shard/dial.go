package shard

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"
)

// dial opens the TCP (and for wss, TLS) connection for a gateway URL.
func (s *Shard) dial(ctx context.Context, raw string) (net.Conn, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, err
	}
	secure := strings.EqualFold(u.Scheme, "wss")
	host := u.Host
	if u.Port() == "" {
		port := "80"
		if secure {
			port = "443"
		}
		host = net.JoinHostPort(u.Hostname(), port)
	}
	ctx, cancel := context.WithTimeout(ctx, DefaultDialTimeout)
	defer cancel()
	var nc net.Conn
	if s.cfg.Dial != nil {
		nc, err = s.cfg.Dial(ctx, "tcp", host)
	} else {
		var d net.Dialer
		nc, err = d.DialContext(ctx, "tcp", host)
	}
	if err != nil {
		return nil, err
	}
	if !secure {
		return nc, nil
	}
	tc := &tls.Config{}
	if s.cfg.TLS != nil {
		tc = s.cfg.TLS.Clone()
	}
	if tc.ServerName == "" {
		tc.ServerName = u.Hostname()
	}
	conn := tls.Client(nc, tc)
	if err := conn.HandshakeContext(ctx); err != nil {
		nc.Close()
		return nil, fmt.Errorf("shard: TLS handshake with %s: %w", host, err)
	}
	return conn, nil
}

// writeTimeout bounds one write; a peer that stops reading for this long
// is as good as gone.
const writeTimeout = 10 * time.Second
