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
	// ErrIdentifyBudget is returned by a LocalLimiter whose daily session
	// start budget is spent and whose reset is further away than the
	// caller's context allows.
	ErrIdentifyBudget = errors.New("shard: daily identify budget spent")
	// ErrRateLimited matches every *RateLimitedError.
	ErrRateLimited = errors.New("shard: rate limited by Discord")
)

// fatal is a sentinel that also matches ErrFatal.
type fatal struct{ msg string }

func (f *fatal) Error() string        { return f.msg }
func (f *fatal) Is(target error) bool { return target == ErrFatal }

// CloseError is Discord closing the connection with a code after which
// reconnecting would fail the same way (4004 bad token, 4010 invalid
// shard, 4011 sharding required, 4012 bad version, 4013 invalid intents,
// 4014 disallowed intents). Run returns it; a human must fix the config.
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

// Is makes errors.Is(err, ErrFatal) true.
func (e *CloseError) Is(target error) bool { return target == ErrFatal }

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
