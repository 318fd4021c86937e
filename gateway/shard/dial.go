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

// readBufSize is the socket read size: large enough for a burst of
// dispatches per read, small enough to keep an idle shard light.
const readBufSize = 16 << 10

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

// chunk is one Read's result, handed from the reader goroutine to the loop.
type chunk struct {
	n   int
	err error
}

// reader reads nc into buf on its own goroutine, one Read at a time: after
// handing a chunk over it waits for ack, so the loop controls when the
// socket is read (and can stop reading while the event queue is full).
type reader struct {
	nc     net.Conn
	buf    []byte
	chunks chan chunk
	ack    chan struct{}
	quit   chan struct{}
	done   chan struct{}
}

func startReader(nc net.Conn, buf []byte) *reader {
	r := &reader{
		nc: nc, buf: buf,
		chunks: make(chan chunk), ack: make(chan struct{}, 1),
		quit: make(chan struct{}), done: make(chan struct{}),
	}
	go r.run()
	return r
}

func (r *reader) run() {
	defer close(r.done)
	for {
		n, err := r.nc.Read(r.buf)
		select {
		case r.chunks <- chunk{n, err}:
		case <-r.quit:
			return
		}
		if err != nil {
			return
		}
		select {
		case <-r.ack:
		case <-r.quit:
			return
		}
	}
}

// stop closes the connection and waits for the goroutine to end.
func (r *reader) stop() {
	close(r.quit)
	r.nc.Close()
	<-r.done
}

// writeTimeout bounds one write; a peer that stops reading for this long
// is as good as gone.
const writeTimeout = 10 * time.Second
