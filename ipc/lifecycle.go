package ipc

import (
	"errors"
	"fmt"
)

// ConnState is where a Client's connection stands: what a health check, a
// status line or a supervisor reads from Client.State.
type ConnState int32

const (
	// StateConnecting: no connection is up and the client is making one
	// (Dial's first, a reconnection after a drop, or, for the id-less
	// Python dialects, which connect when a call needs it, the last
	// attempt failed or none was made yet). Calls wait for a connection
	// until their deadline.
	StateConnecting ConnState = iota
	// StateConnected: a connection is up (for ext-ipc and better-ipc, the
	// last connection attempt succeeded); calls go out at once.
	StateConnected
	// StateClosed: the client is closed for good, by Close, after
	// ClientConfig.MaxReconnects failed attempts, or (Zonis) replaced by a
	// client with the override key. Err says which; Done is closed.
	StateClosed
)

func (s ConnState) String() string {
	switch s {
	case StateConnecting:
		return "connecting"
	case StateConnected:
		return "connected"
	case StateClosed:
		return "closed"
	}
	return fmt.Sprintf("ConnState(%d)", int32(s))
}

// ErrGaveUp: the client stopped reconnecting after ClientConfig.MaxReconnects
// failed attempts in a row, and is closed. The error wrapping it carries the
// last attempt's error.
var ErrGaveUp = errors.New("ipc: gave up reconnecting")

// State returns where the client's connection stands.
func (c *Client) State() ConnState {
	c.mu.Lock()
	ended := c.endErr != nil
	c.mu.Unlock()
	switch {
	case ended:
		return StateClosed
	case c.dialect != nil && c.dialect.connected(), c.dialect == nil && c.connected() != nil:
		return StateConnected
	}
	return StateConnecting
}

// Done returns a channel closed once the client is closed for good (see
// StateClosed) and has released its connections and goroutines: what a
// program that must stop with its client waits on.
func (c *Client) Done() <-chan struct{} { return c.done }

// Err returns why the client is closed: nil while it is not, ErrClosed
// after Close, an error matching ErrGaveUp once ClientConfig.MaxReconnects
// failed attempts in a row made it give up, or one matching
// ErrDuplicateIdentifier when a Zonis client was replaced by one presenting
// the override key. Calls made after that return the same error.
func (c *Client) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.endErr
}

// end closes the client for good with err as its reason (the first reason
// wins) and releases its connections and goroutines in the background:
// the reconnect loop that gives up calls it, and Close waits for it.
func (c *Client) end(err error) {
	c.mu.Lock()
	if c.endErr == nil {
		c.endErr = err
		c.closed = true
	}
	c.mu.Unlock()
	go c.release()
}

// release stops everything the client runs, once: the reconnect loops and
// their connections (calls in flight fail with ErrConnectionLost), the
// workers; then Done is closed.
func (c *Client) release() {
	c.releaseOnce.Do(func() {
		close(c.stop)
		if c.dialect != nil {
			c.dialect.close()
		}
		c.wg.Wait()
		c.conf.workers.stop()
		close(c.done)
	})
}

// failedAttempt counts one failed reconnection attempt; it returns the
// error that ended the client when that was the last one
// ClientConfig.MaxReconnects allows, or nil.
func (c *Client) failedAttempt(failures int, err error) error {
	if c.cfg.MaxReconnects <= 0 || failures < c.cfg.MaxReconnects {
		return nil
	}
	gaveUp := fmt.Errorf("%w after %d failed attempts in a row: %w", ErrGaveUp, failures, err)
	c.conf.logger.Warn("ipc: giving up reconnecting", "url", c.cfg.URL, "attempts", failures, "err", err)
	c.end(gaveUp)
	return gaveUp
}
