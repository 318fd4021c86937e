package ipc

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/ipcord/ipcord/internal/wsproto"
)

// dialectClient is what a Client delegates to when it speaks a Python
// dialect: the same Call, over another wire.
type dialectClient interface {
	Call(ctx context.Context, route string, args, out any) error
	// connected reports whether the client has a usable connection (see
	// StateConnected).
	connected() bool
	close()
}

// dialDialect completes Dial for a Client whose config names a dialect.
func dialDialect(ctx context.Context, c *Client) (*Client, error) {
	switch c.cfg.Dialect {
	case ExtIPC, BetterIPC, BetterIPCMulticast:
		sc := newSeqClient(c)
		if err := sc.warm(ctx); err != nil {
			return nil, err
		}
		c.dialect = sc
	case Zonis:
		zc, err := dialZonis(ctx, c)
		if err != nil {
			return nil, err
		}
		c.dialect = zc
	default:
		return nil, fmt.Errorf("%w: %q", ErrUnknownDialect, c.cfg.Dialect)
	}
	return c, nil
}

// dialPlain opens a WebSocket connection without a subprotocol, as the
// Python libraries' servers expect. ctx bounds the whole handshake.
func (c *Client) dialPlain(ctx context.Context, u *url.URL, header http.Header) (*conn, error) {
	ctx, cancel := context.WithTimeout(ctx, orDefault(c.cfg.HandshakeTimeout, 10*time.Second))
	defer cancel()
	nc, stop, err := c.dialSocket(ctx, u)
	if err != nil {
		return nil, err
	}
	defer stop()
	req := &wsproto.Request{URL: u, Key: wsproto.NewKey(), Header: header}
	if c.conf.compress != nil {
		req.Extensions = wsproto.DeflateOffer
	}
	if _, err := nc.Write(req.Append(nil)); err != nil {
		nc.Close()
		return nil, err
	}
	var buf []byte
	chunk := make([]byte, 4096)
	for {
		n, rerr := nc.Read(chunk)
		buf = append(buf, chunk[:n]...)
		resp, used, ok, err := wsproto.ParseResponse(buf, req)
		if err != nil {
			nc.Close()
			return nil, handshakeError(err)
		}
		if ok {
			deflate, err := wsproto.CheckDeflateResponse(resp.Extensions)
			if err != nil {
				nc.Close()
				return nil, handshakeError(err)
			}
			nc.SetDeadline(time.Time{})
			p := newConn(&c.conf, nc, wsproto.Client)
			if deflate {
				p.enableCompression(c.conf.compress)
			}
			p.dec.Feed(buf[used:])
			return p, nil
		}
		if rerr != nil {
			nc.Close()
			if ctx.Err() != nil {
				return nil, fmt.Errorf("ipc: connecting to %s: %w", u, ctx.Err())
			}
			return nil, fmt.Errorf("ipc: reading upgrade response: %w", rerr)
		}
	}
}

// withTimeout applies a call's default timeout (callWith's timeout > 0)
// as a context deadline: dialect calls may dial, so everything they do
// must be bounded by one deadline.
func withTimeout(ctx context.Context, timeout time.Duration) (context.Context, context.CancelFunc) {
	if timeout > 0 {
		return context.WithTimeout(ctx, timeout)
	}
	return ctx, func() {}
}

// closeErrorCode returns the close code err carries, or 0.
func closeErrorCode(err error) int {
	var ce *CloseError
	if errors.As(err, &ce) {
		return ce.Code
	}
	return 0
}
