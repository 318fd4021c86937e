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

	mu    sync.Mutex
	cur   *zonisPeer
	ready chan struct{} // closed while cur is usable

	stop chan struct{}
	wg   sync.WaitGroup
}

func dialZonis(ctx context.Context, c *Client) (*zonisClient, error) {
	zc := &zonisClient{c: c, ready: make(chan struct{}), stop: make(chan struct{})}
	backoff := c.backoff()
	var last lastFailure
	for {
		z, err := zc.connect(ctx)
		if err == nil {
			zc.publish(z) // State says connected once Dial returns
			zc.wg.Add(1)
			go zc.maintain(z)
			return zc, nil
		}
		if permanent(err) || errors.Is(err, ErrDuplicateIdentifier) || errors.Is(err, ErrZonisIdentify) {
			return nil, err
		}
		if err := c.failFast(err); err != nil {
			return nil, err
		}
		last.note(ctx, err)
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("%w: %w (last attempt: %w)", ErrNotConnected, ctx.Err(), last.err)
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

// publish makes z the connection calls use.
func (zc *zonisClient) publish(z *zonisPeer) {
	zc.mu.Lock()
	defer zc.mu.Unlock()
	select {
	case <-zc.ready:
		// Left closed by a connection that ended before it was published.
		zc.ready = make(chan struct{})
	default:
	}
	zc.cur = z
	close(zc.ready)
}

// maintain waits for z (published) to end and reconnects, publishing each
// new connection, until close.
func (zc *zonisClient) maintain(z *zonisPeer) {
	defer zc.wg.Done()
	for {
		select {
		case <-z.c.done:
		case <-zc.stop:
			z.close(int(wsproto.CloseNormal), "client closed")
			return
		}
		zc.mu.Lock()
		if zc.cur == z {
			// z's onClose did this unless z ended before it was published.
			zc.cur, zc.ready = nil, make(chan struct{})
		}
		zc.mu.Unlock()
		if closeErrorCode(z.c.err) == closeZonisDuplicate {
			// Replaced by a newer client with the override key: taking the
			// identifier back would evict it in turn, for ever.
			zc.c.conf.logger.Info("ipc: zonis: replaced by another client; not reconnecting", "identifier", zc.c.cfg.Identifier)
			zc.c.end(fmt.Errorf("%w: %q was taken over by a client with the override key", ErrDuplicateIdentifier, zc.c.cfg.Identifier))
			return
		}
		backoff := zc.c.backoff()
		for failures := 1; ; failures++ {
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
			if zc.c.failedAttempt(failures, err) != nil {
				return
			}
		}
		zc.publish(z)
	}
}

func (zc *zonisClient) Call(ctx context.Context, route string, args, out any) error {
	return callWith(ctx, dialectWire, zc.c.conf.defaultTimeout, route, args, out, func(ctx context.Context, a []byte, timeout time.Duration) ([]byte, error) {
		ctx, cancel := withTimeout(ctx, timeout)
		defer cancel()
		for {
			if err := zc.c.Err(); err != nil {
				return nil, err
			}
			zc.mu.Lock()
			z, ready := zc.cur, zc.ready
			zc.mu.Unlock()
			if z == nil || z.c.isDone() {
				select {
				case <-ready:
					continue
				case <-zc.stop:
					continue // Err says why
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

func (zc *zonisClient) connected() bool {
	zc.mu.Lock()
	defer zc.mu.Unlock()
	return zc.cur != nil && !zc.cur.c.isDone()
}

func (zc *zonisClient) close() {
	close(zc.stop)
	zc.wg.Wait()
}
