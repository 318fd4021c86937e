package main

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/ipcord/ipcord/ipc"
)

// What a command that connects tells the user when it cannot. ipc.Dial
// retries until its deadline (a client must ride out a server restart),
// but a person at a shell wants a refused connection reported at once,
// with where it tried and what to change: the commands dial with
// ipc.ClientConfig.FailFast, and ipc.ErrUnreachable gets the hint.

// connectHint follows every connection failure.
const connectHint = `  Is the server running there? Point at it with --url ws://HOST:PORT, or find it with --discover HOST:PORT.
  A server with TLS takes wss:// (and --ca FILE when its certificate comes from a private CA).`

// unwrapNet drops the "dial tcp ADDR:" the address already says.
func unwrapNet(err error) error {
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		return op.Err
	}
	return err
}

// connectError explains an error from ipc.Dial or ipc.Discover.
func connectError(target string, err error) error {
	var plain tls.RecordHeaderError
	var netErr *net.OpError
	switch {
	case errors.As(err, &plain):
		return fmt.Errorf("cannot connect to %s: %w\n  The server does not speak TLS there: use ws:// (http:// for discovery).", target, err)
	case errors.Is(err, ipc.ErrUnreachable):
		return fmt.Errorf("cannot connect to %s: %w\n%s", target, unwrapNet(err), connectHint)
	case errors.Is(err, ipc.ErrBadURL):
		return fmt.Errorf("%w: want ws://HOST:PORT or wss://HOST:PORT", err)
	case errors.Is(err, ipc.ErrUnauthorized):
		return fmt.Errorf("unauthorized: %s refused the secret (give the server's with --secret or IPCORD_SECRET)", target)
	case errors.Is(err, ipc.ErrTLS):
		return fmt.Errorf("%w\n  Trust the server's CA with --ca FILE; a server without TLS takes ws:// (http:// for discovery).", err)
	case errors.Is(err, ipc.ErrNotConnected) || errors.As(err, &netErr):
		return fmt.Errorf("cannot connect to %s: %w\n%s", target, err, connectHint)
	}
	return err
}

// reportCallError makes a failed call the command's error: exit status 1,
// and "code: message" after the command's prefix.
func reportCallError(err error) error { return errors.New(callErrorText(err)) }

// callErrorText is "code: message" for an *ipc.Error (the secret refused
// said in words), else the error's own text; a call that found no server
// (a multicast client connects per call) gets the hint.
func callErrorText(err error) string {
	if errors.Is(err, ipc.ErrUnauthorized) {
		return connectError("the server", err).Error()
	}
	if errors.Is(err, ipc.ErrUnreachable) {
		return strings.TrimPrefix(err.Error(), "ipc: ") + "\n" + connectHint
	}
	var ie *ipc.Error
	if errors.As(err, &ie) {
		return ie.Code + ": " + ie.Message
	}
	return strings.TrimPrefix(err.Error(), "ipc: ")
}
