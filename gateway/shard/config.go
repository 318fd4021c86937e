package shard

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"time"

	"github.com/ipcord/ipcord/gateway"
)

// Defaults for the zero values of Config.
const (
	DefaultQueueEvents = 4096
	DefaultQueueBytes  = 64 << 20
	DefaultBackoffBase = time.Second
	DefaultBackoffMax  = 2 * time.Minute
	DefaultBackoffMin  = time.Second
	// DefaultStableAfter is how long a connection must last for the next
	// one to go without waiting.
	DefaultStableAfter  = time.Minute
	DefaultHelloTimeout = 20 * time.Second
	DefaultReadyTimeout = 30 * time.Second
	DefaultDialTimeout  = 15 * time.Second
	// DefaultMaxDecompressFailures is how many consecutive connections may
	// fail to decode their compressed stream before Run gives up.
	DefaultMaxDecompressFailures = 3
)

// Handler receives a shard's events, one at a time and in order, on a
// goroutine of the Shard's own. A slow handler never stalls the socket's
// heartbeats: events wait in a bounded queue, and reading pauses while it
// is full.
type Handler func(ctx context.Context, ev Event)

// Event is one dispatch (READY, RESUMED and GUILD_CREATE included) as the
// handler receives it. Data is the raw JSON of the payload's d; it belongs
// to the handler. It is taken from the payload without being parsed: were
// Discord to put a key after d (it does not today), Data may hold that
// key too, and Decode (into a json.RawMessage as well) gives d itself.
//
// Shard, Session and Seq name the event uniquely: seqs start again at 1
// with each new session. A handler that must not act twice on one event
// (after a crashed process's shards were resumed elsewhere from a
// checkpoint) records them with its effects; see natsipc.Marks.
type Event struct {
	Shard int
	// Session is the id of the session the event belongs to.
	Session string
	Seq     int64
	Name    string
	Data    json.RawMessage
	// Received is when the event was read off the socket (the read that
	// completed it; the events of one read share it), from time.Now with
	// its monotonic reading. time.Since(Received) is how long the event
	// has waited, in the queue behind slower handlers included: pass it to
	// interactions.Endpoint.Deliver so the 3-second deadline of an
	// INTERACTION_CREATE is counted from there.
	Received time.Time

	// src is the dispatch Data was copied with: what Decode needs when the
	// payload had a key after d (see gateway.Dispatch.Decode).
	src gateway.Dispatch
}

// Decode unmarshals Data into v (a type from package discord, say), with
// the decoder gateway.Dispatch uses, and reads a payload with a key after
// d correctly as it does.
func (e Event) Decode(v any) error {
	d := e.src
	if !same(d.Data, e.Data) {
		// An Event made or changed by the caller: its Data is what counts.
		d = gateway.Dispatch{Seq: e.Seq, Name: e.Name, Data: e.Data}
	}
	return d.Decode(v)
}

// same reports whether a and b are one slice of the same bytes.
func same(a, b []byte) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}

// Backoff is the capped exponential backoff between connection attempts:
// attempt n (from 1) waits a random time in [d/2, d] with
// d = min(Base × 2^(n-1), Max), and never less than Min. A connection
// counts as failed, and the next attempt waits, unless it got going (READY
// or RESUMED) and then lasted StableAfter: a network that drops every
// connection right after READY is paced like one that refuses them, never
// retried in a loop. Only the next connection after a stable one goes at
// once, and the count starts again.
type Backoff struct {
	Base time.Duration // DefaultBackoffBase if 0; tests use 10 ms
	Max  time.Duration // DefaultBackoffMax if 0
	Min  time.Duration // DefaultBackoffMin (1 s) if 0; tests lower it
	// StableAfter is how long a connection that got going must last for
	// the next attempt to go at once; DefaultStableAfter (a minute) if 0.
	StableAfter time.Duration
}

func (b Backoff) delay(attempt int, rnd func() float64) time.Duration {
	if attempt <= 0 {
		return 0
	}
	base, limit, least := b.Base, b.Max, b.Min
	if base <= 0 {
		base = DefaultBackoffBase
	}
	if limit <= 0 {
		limit = DefaultBackoffMax
	}
	if least <= 0 {
		least = DefaultBackoffMin
	}
	d := base
	for i := 1; i < attempt && d < limit; i++ {
		d *= 2
	}
	d = min(d, limit)
	return max(d/2+time.Duration(rnd()*float64(d/2)), least)
}

func (b Backoff) stableAfter() time.Duration {
	if b.StableAfter > 0 {
		return b.StableAfter
	}
	return DefaultStableAfter
}

// Config describes one shard. Gateway.Token is required; every other zero
// value works.
type Config struct {
	// Gateway is the sans-I/O connection's config: token, intents, shard
	// id and count, compression, the URL from Get Gateway Bot.
	Gateway gateway.Config
	// Handler receives the events; nil drops them (sends still work).
	Handler Handler
	// Identify hands out IDENTIFY slots; nil means a LocalLimiter with
	// max_concurrency 1, right for a single shard.
	Identify IdentifyLimiter
	// Connects caps connection attempts per minute across the shards that
	// share it: give the shards of one process the same one (a Manager
	// does). Nil gives this shard its own, with the defaults.
	Connects *ConnectLimit
	// Session, when valid, is resumed by the first connection instead of
	// identifying: one exported by a previous process's Shard.Session.
	Session gateway.Session

	// QueueEvents and QueueBytes bound the events waiting for the
	// handler (defaults 4,096 events and 64 MiB of Data). While the queue
	// is full the shard stops reading the socket and does not judge the
	// connection dead for want of reads.
	QueueEvents int
	QueueBytes  int

	Backoff Backoff
	// HelloTimeout bounds the wait from dialing to HELLO.
	HelloTimeout time.Duration
	// ReadyTimeout bounds the wait from IDENTIFY to READY; past it the
	// identify counts as failed and the shard reconnects.
	ReadyTimeout time.Duration
	// MaxDecompressFailures is the number of consecutive connections with
	// an undecodable compressed stream after which Run returns
	// ErrDecompressFailures.
	MaxDecompressFailures int

	// Dial opens the TCP connection; nil uses a net.Dialer with a
	// DefaultDialTimeout timeout. wss URLs are wrapped in TLS on top.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// TLS is the TLS config for wss URLs; nil uses the system roots and
	// the URL's host name.
	TLS *tls.Config

	// Clock is the time source of every timing decision (heartbeats,
	// timeouts, backoff, the send limit); nil means the system clock.
	// Socket I/O deadlines stay on the wall clock. See Clock.
	Clock Clock

	// Rand returns numbers in [0, 1) for backoff jitter; nil uses
	// math/rand/v2.
	Rand func() float64
	// Logger receives state changes at debug level and failures at warn;
	// nil is silent. The token is never logged.
	Logger *slog.Logger
}

func (c *Config) withDefaults() (Config, error) {
	cfg := *c
	if cfg.Gateway.Token == "" {
		return cfg, fmt.Errorf("%w: empty token", ErrConfig)
	}
	if cfg.QueueEvents <= 0 {
		cfg.QueueEvents = DefaultQueueEvents
	}
	if cfg.QueueBytes <= 0 {
		cfg.QueueBytes = DefaultQueueBytes
	}
	if cfg.HelloTimeout <= 0 {
		cfg.HelloTimeout = DefaultHelloTimeout
	}
	if cfg.ReadyTimeout <= 0 {
		cfg.ReadyTimeout = DefaultReadyTimeout
	}
	if cfg.MaxDecompressFailures <= 0 {
		cfg.MaxDecompressFailures = DefaultMaxDecompressFailures
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Float64
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	cfg.Clock = clockOr(cfg.Clock)
	if cfg.Identify == nil {
		cfg.Identify = &LocalLimiter{MaxConcurrency: 1, Clock: cfg.Clock}
	}
	if cfg.Connects == nil {
		cfg.Connects = &ConnectLimit{}
	}
	return cfg, nil
}
