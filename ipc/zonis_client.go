package ipc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/ipcord/ipcord/internal/wsproto"
)

// ErrZonisIdentify: a Zonis server closed with 4101 (the first frame was
// not an IDENTIFY it accepted).
var ErrZonisIdentify = errors.New("ipc: zonis: identify refused")

// zonisClient is a Client speaking Zonis: a bot that identifies to the
// dashboard's server, serves the client's Router to it and calls the
// server's routes. It reconnects like a native Client.
type zonisClient struct {
	c *Client

	mu       sync.Mutex
	cur      *zonisPeer
	ready    chan struct{} // closed while cur is usable
	replaced bool          // another client took our identifier over

	stop chan struct{}
	wg   sync.WaitGroup
}

func dialZonis(ctx context.Context, c *Client) (*zonisClient, error) {
	zc := &zonisClient{c: c, ready: make(chan struct{}), stop: make(chan struct{})}
	backoff := c.backoff()
	for {
		z, err := zc.connect(ctx)
		if err == nil {
			zc.wg.Add(1)
			go zc.maintain(z)
			return zc, nil
		}
		if permanent(err) || errors.Is(err, ErrDuplicateIdentifier) || errors.Is(err, ErrZonisIdentify) {
			return nil, err
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("%w: %w (last attempt: %w)", ErrNotConnected, ctx.Err(), err)
		case <-time.After(backoff()):
		}
	}
}

// connect dials and identifies: IDENTIFY with the secret and override key,
// answered by a response with the same packet_id or a close 4100/4101/4102.
func (zc *zonisClient) connect(ctx context.Context) (*zonisPeer, error) {
	p, err := zc.c.dialPlain(ctx, zc.c.url, nil)
	if err != nil {
		return nil, err
	}
	cfg := zc.c.cfg
	idd := zonisIdentifyData{SecretKey: cfg.Secret}
	if cfg.ZonisOverrideKey != "" {
		idd.OverrideKey = &cfg.ZonisOverrideKey
	}
	data, _ := json.Marshal(idd)
	pid := newPacketID()
	p.writeFrame(appendZonisFrame(nil, pid, "request", cfg.Identifier, zonisIdentify, data))
	hctx, cancel := context.WithTimeout(ctx, orDefault(cfg.HandshakeTimeout, 10*time.Second))
	defer cancel()
	stop := context.AfterFunc(hctx, func() { p.nc.SetReadDeadline(time.Unix(1, 0)) })
	m, err := p.readMessage()
	stop()
	if err != nil {
		p.fail(err)
		switch closeErrorCode(err) {
		case closeZonisSecret:
			return nil, fmt.Errorf("%w: the zonis server refused the secret", ErrUnauthorized)
		case closeZonisDuplicate:
			return nil, fmt.Errorf("%w: %q", ErrDuplicateIdentifier, cfg.Identifier)
		case closeZonisIdentify:
			return nil, fmt.Errorf("%w: %w", ErrZonisIdentify, err)
		}
		return nil, err
	}
	p.nc.SetReadDeadline(time.Time{})
	f, err := decodeZonis(m.Payload)
	if err != nil || f.Type != "response" || f.PacketID != pid || f.Data.Type != zonisIdentify {
		p.close(int(wsproto.CloseProtocolError), "expected the IDENTIFY response")
		return nil, fmt.Errorf("%w: unexpected answer to IDENTIFY", ErrZonisIdentify)
	}
	z := newZonisPeer(p, cfg.Identifier, false)
	p.peer = zonisServerID
	p.onClose = func() {
		zc.mu.Lock()
		if zc.cur == z {
			zc.cur = nil
			zc.ready = make(chan struct{})
		}
		zc.mu.Unlock()
	}
	startKeepalive(p)
	zc.wg.Add(1)
	go func() {
		defer zc.wg.Done()
		readDialect(p, z.handle)
		z.abortHandlers()
	}()
	return z, nil
}

// maintain publishes z, waits for it to end and reconnects until close.
func (zc *zonisClient) maintain(z *zonisPeer) {
	defer zc.wg.Done()
	for {
		zc.mu.Lock()
		zc.cur = z
		close(zc.ready)
		zc.mu.Unlock()
		select {
		case <-z.c.done:
		case <-zc.stop:
			z.close(int(wsproto.CloseNormal), "client closed")
			return
		}
		if closeErrorCode(z.c.err) == closeZonisDuplicate {
			// Replaced by a newer client with the override key: taking the
			// identifier back would evict it in turn, for ever.
			zc.mu.Lock()
			zc.replaced = true
			close(zc.ready) // wake the calls waiting for a connection
			zc.mu.Unlock()
			zc.c.conf.logger.Info("ipc: zonis: replaced by another client; not reconnecting", "identifier", zc.c.cfg.Identifier)
			return
		}
		backoff := zc.c.backoff()
		for {
			select {
			case <-zc.stop:
				return
			case <-time.After(backoff()):
			}
			ctx, cancel := context.WithCancel(context.Background())
			go func() {
				select {
				case <-zc.stop:
					cancel()
				case <-ctx.Done():
				}
			}()
			nz, err := zc.connect(ctx)
			cancel()
			if err == nil {
				z = nz
				break
			}
			zc.c.conf.logger.Debug("ipc: zonis reconnect failed", "url", zc.c.cfg.URL, "err", err)
		}
	}
}

func (zc *zonisClient) Call(ctx context.Context, route string, args, out any) error {
	return callWith(ctx, dialectWire, zc.c.conf.defaultTimeout, route, args, out, func(ctx context.Context, a []byte, timeout time.Duration) ([]byte, error) {
		ctx, cancel := withTimeout(ctx, timeout)
		defer cancel()
		for {
			zc.mu.Lock()
			z, ready, replaced := zc.cur, zc.ready, zc.replaced
			zc.mu.Unlock()
			if replaced {
				return nil, fmt.Errorf("%w: %w: replaced by a client with the override key", ErrNotConnected, ErrDuplicateIdentifier)
			}
			if z == nil || z.c.isDone() {
				select {
				case <-ready:
					continue
				case <-zc.stop:
					return nil, ErrClosed
				case <-ctx.Done():
					return nil, fmt.Errorf("%w: %w", ErrNotConnected, contextError(ctx))
				}
			}
			data, err := z.call(ctx, route, a, 0)
			if errors.Is(err, errNotSent) {
				continue
			}
			return data, err
		}
	})
}

func (zc *zonisClient) close() {
	close(zc.stop)
	zc.wg.Wait()
}
