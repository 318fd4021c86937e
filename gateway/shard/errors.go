package shard

import (
	"errors"
	"time"

	"github.com/ipcord/ipcord/gateway"
)

var (
	// ErrFatal matches every error that stops a Shard for good: a close
	// code Discord uses for a configuration a retry cannot fix (a
	// *CloseError), or too many undecodable compressed streams.
	ErrFatal = errors.New("shard: fatal gateway error")
	// ErrDecompressFailures is returned by Run after consecutive
	// connections whose compressed stream could not be decoded; something
	// between the bot and Discord mangles the stream. It matches ErrFatal.
	ErrDecompressFailures = &fatal{"shard: too many undecodable compressed streams"}
	// ErrNotRunning is returned by sends and requests on a Shard whose Run
	// has returned (or never started).
	ErrNotRunning = errors.New("shard: not running")
	// ErrConfig is returned by New for a config that cannot work.
	ErrConfig = errors.New("shard: bad config")
	// ErrIdentifyBudget matches every refusal to spend the daily session
	// start budget: a Manager's *IdentifyBudgetError (the budget is at its
	// IdentifyReserve), and a LocalLimiter whose Budget is spent and whose
	// reset is further away than the caller's context allows.
	ErrIdentifyBudget = errors.New("shard: daily identify budget spent")
	// ErrRateLimited matches every *RateLimitedError.
	ErrRateLimited = errors.New("shard: rate limited by Discord")
	// ErrShardNotHeld is returned by Manager.HandOff for a shard the
	// Manager does not run.
	ErrShardNotHeld = errors.New("shard: shard not run by this manager")
	// ErrShardHeld is returned by Manager.Adopt for a shard the Manager
	// already runs.
	ErrShardHeld = errors.New("shard: shard already run by this manager")
	// ErrIdentifyFailed matches the error an IdentifyLimiter's release
	// gets when no READY followed the IDENTIFY.
	ErrIdentifyFailed = errors.New("shard: identify failed")
)

// Why a connection ended, as Status.LastError reports it. The shard
// reconnects after each; besides these, LastError may be a *CloseError, an
// *InvalidSessionError, or one of package gateway's errors (a
// *gateway.ProtocolError, a *gateway.HandshakeError, gateway.ErrDecompress,
// gateway.ErrDecode, gateway.ErrMessageTooBig).
var (
	// ErrConnectionLost: dialing failed, or the socket failed or was
	// closed without a close frame. It wraps the network error.
	ErrConnectionLost = errors.New("shard: connection lost")
	// ErrZombie: nothing was read for a heartbeat interval.
	ErrZombie = errors.New("shard: nothing read for a heartbeat interval (zombie connection)")
	// ErrHelloTimeout: no HELLO within Config.HelloTimeout of dialing.
	ErrHelloTimeout = errors.New("shard: no HELLO in time")
	// ErrReadyTimeout: no READY within Config.ReadyTimeout of IDENTIFY.
	ErrReadyTimeout = errors.New("shard: no READY in time after IDENTIFY")
	// ErrReconnectRequested: the gateway sent op 7 RECONNECT.
	ErrReconnectRequested = errors.New("shard: gateway asked for a reconnect (op 7)")
)

// fatal is a sentinel that also matches ErrFatal.
type fatal struct{ msg string }

func (f *fatal) Error() string        { return f.msg }
func (f *fatal) Is(target error) bool { return target == ErrFatal }

// CloseError is Discord closing the connection with a code. For a code
// after which reconnecting would fail the same way (4004 bad token, 4010
// invalid shard, 4011 sharding required, 4012 bad version, 4013 invalid
// intents, 4014 disallowed intents) Run returns it and it matches
// ErrFatal: a human must fix the config. For any other code the shard
// reconnects, and Status.LastError holds it.
type CloseError struct {
	Code   gateway.CloseCode
	Reason string
}

func (e *CloseError) Error() string {
	s := "shard: gateway closed the connection with " + e.Code.String()
	if e.Reason != "" {
		s += " (" + e.Reason + ")"
	}
	return s
}

// Is makes errors.Is(err, ErrFatal) true for the codes that stop a shard.
func (e *CloseError) Is(target error) bool {
	return target == ErrFatal && gateway.ActionFor(e.Code) == gateway.ActionStop
}

// RateLimitedError is Discord's RATE_LIMITED dispatch answering a request
// the shard sent (today only Request Guild Members): try again after
// RetryAfter.
type RateLimitedError struct {
	Opcode     gateway.Opcode
	RetryAfter time.Duration
	GuildID    string
}

func (e *RateLimitedError) Error() string {
	return "shard: " + e.Opcode.String() + " for guild " + e.GuildID +
		" rate limited; retry after " + e.RetryAfter.String()
}

// Is makes errors.Is(err, ErrRateLimited) true.
func (e *RateLimitedError) Is(target error) bool { return target == ErrRateLimited }

// identifyFailed is the error given to an identify release when no READY
// followed the IDENTIFY.
type identifyFailed struct{ why string }

func (e *identifyFailed) Error() string { return "shard: identify failed: " + e.why }

// Is makes errors.Is(err, ErrIdentifyFailed) true.
func (e *identifyFailed) Is(target error) bool { return target == ErrIdentifyFailed }
