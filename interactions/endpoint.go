package interactions

import (
	"context"
	"crypto/ed25519"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ipcord/ipcord/rest"
)

// Defaults of Config's zero fields.
const (
	DefaultReplayWindow    = 5 * time.Minute
	DefaultMaxBodyBytes    = 1 << 20
	DefaultDeferAfter      = 2 * time.Second
	DefaultListenerTimeout = 14 * time.Minute
	DefaultInlineFileLimit = 100 << 10
)

// NoReplayWindow, as Config.ReplayWindow, turns the timestamp check off.
const NoReplayWindow time.Duration = -1

// Config configures an Endpoint. The zero value of every field means its
// documented default; only a public key source is required.
type Config struct {
	// PublicKey is the application's public key, 64 hex characters. When
	// empty, it is fetched with REST.CurrentApplication (REST must then
	// have the bot token); requests get 503 until it arrives.
	PublicKey string
	// REST delivers answers after a defer, follow-ups, 202-mode callbacks
	// and the key fetch; nil means a Client with default settings (enough
	// for everything but the key fetch, which needs a token).
	REST *rest.Client
	// NewVerifier makes the signature verifier for the key; nil means
	// TableVerifier (crypto/ed25519's rules, 1.8× as fast);
	// StdVerifier is crypto/ed25519 itself.
	NewVerifier func(ed25519.PublicKey) (Verifier, error)
	// ReplayWindow is how far a request's timestamp may be from now; zero
	// means DefaultReplayWindow (5 min), NoReplayWindow disables the check.
	ReplayWindow time.Duration
	// MaxBodyBytes bounds the body (default 1 MiB); larger requests get 413.
	MaxBodyBytes int64
	// DeferAfter is when, counted from arrival, a listener that has not
	// answered is deferred (default 2 s; Discord allows 3 s).
	DeferAfter time.Duration
	// ListenerTimeout is the deadline of a listener's context, counted from
	// arrival (default 14 min, inside the token's 15).
	ListenerTimeout time.Duration
	// InlineFileLimit is the total file size above which a reply is
	// deferred and its files uploaded by editing @original (default 100 KB).
	InlineFileLimit int
	// Respond202 POSTs every response to the callback route and answers
	// the HTTP request 202 with no body.
	Respond202 bool
	// Forward, when set, may send each verified interaction to the process
	// that serves it (ForwardTo builds one over ipc, natsipc included);
	// those it does not take are served here.
	Forward Forwarder
	// WithResponse asks the callback route (202 mode, and interactions
	// served by Deliver) to return what the response created; the listener
	// reads it with Event.Callback.
	WithResponse bool
	// KeyRetry is the first wait between key fetch attempts, doubling up
	// to a minute (default 1 s).
	KeyRetry time.Duration
	// TLSConfig, when set, makes Serve and ListenAndServe serve HTTPS.
	TLSConfig *tls.Config
	// OnError, when set, is called with every listener failure (error,
	// panic, invalid or late response) and failed delivery, besides the
	// log. It must not block.
	OnError func(ev *Event, err error)
	// OnDefer, when set, is called each time the endpoint answers for a
	// listener that has not answered by DeferAfter: a defer, or no
	// choices for autocomplete. It must not block.
	OnDefer func(ev *Event)
	// OnLateAnswer, when set, is called once a listener the endpoint
	// deferred for has answered: with nil when the answer reached Discord,
	// else with why it did not (as given to OnError). It must not block.
	OnLateAnswer func(ev *Event, err error)
	// Logger receives the endpoint's logs; nil is silent.
	Logger *slog.Logger
	// Now is the wall clock for the replay window; nil means time.Now.
	Now func() time.Time
}

// Endpoint is the interactions endpoint: an http.Handler plus the listener
// registry, the deferral machinery and the server lifecycle. Create it with
// New; register listeners before serving.
type Endpoint struct {
	cfg Config
	log *slog.Logger
	rc  *rest.Client

	reg registry

	verifier atomic.Pointer[verifierBox]
	keyOnce  sync.Once

	base      context.Context // parent of listener contexts; canceled by Shutdown
	cancel    context.CancelFunc
	lmu       sync.Mutex     // orders listeners.Add against Shutdown's Wait
	listeners sync.WaitGroup // running listener goroutines and deliveries
	bg        sync.WaitGroup // key fetch loop
	closed    atomic.Bool

	srvMu   sync.Mutex
	servers map[*http.Server]struct{}

	bufs sync.Pool
}

type verifierBox struct{ v Verifier }

// New returns an Endpoint for cfg. A malformed PublicKey is an error;
// nothing is started until a request arrives or Serve is called.
func New(cfg Config) (*Endpoint, error) {
	if cfg.ReplayWindow == 0 {
		cfg.ReplayWindow = DefaultReplayWindow
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.DeferAfter <= 0 {
		cfg.DeferAfter = DefaultDeferAfter
	}
	if cfg.ListenerTimeout <= 0 {
		cfg.ListenerTimeout = DefaultListenerTimeout
	}
	if cfg.InlineFileLimit <= 0 {
		cfg.InlineFileLimit = DefaultInlineFileLimit
	}
	if cfg.KeyRetry <= 0 {
		cfg.KeyRetry = time.Second
	}
	if cfg.NewVerifier == nil {
		cfg.NewVerifier = TableVerifier
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	e := &Endpoint{cfg: cfg, rc: cfg.REST, servers: map[*http.Server]struct{}{}}
	if e.rc == nil {
		e.rc = &rest.Client{}
	}
	e.log = cfg.Logger
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	e.base, e.cancel = context.WithCancel(context.Background())
	e.reg.init()
	if cfg.PublicKey != "" {
		if err := e.setKey(cfg.PublicKey); err != nil {
			return nil, err
		}
	} else if cfg.REST == nil {
		return nil, fmt.Errorf("%w: Config needs PublicKey, or REST with a token to fetch it", ErrBadPublicKey)
	}
	return e, nil
}

func (e *Endpoint) setKey(hexKey string) error {
	key, err := ParsePublicKey(hexKey)
	if err != nil {
		return err
	}
	v, err := e.cfg.NewVerifier(key)
	if err != nil {
		return err
	}
	e.verifier.Store(&verifierBox{v})
	return nil
}

// track counts a new listener goroutine or delivery, unless the endpoint
// is shutting down (a WaitGroup must not grow while Shutdown waits on it).
func (e *Endpoint) track() bool {
	e.lmu.Lock()
	defer e.lmu.Unlock()
	if e.closed.Load() {
		return false
	}
	e.listeners.Add(1)
	return true
}

// ErrKeyUnavailable is the 503 cause while the public key is being fetched.
var ErrKeyUnavailable = errors.New("interactions: public key not fetched yet")

// currentVerifier returns the verifier, starting the key fetch the first
// time it is missing.
func (e *Endpoint) currentVerifier() Verifier {
	if b := e.verifier.Load(); b != nil {
		return b.v
	}
	e.startKeyFetch()
	return nil
}

// startKeyFetch starts, once, the loop that fetches the public key with
// backoff until it succeeds or the endpoint shuts down.
func (e *Endpoint) startKeyFetch() {
	if e.verifier.Load() != nil || e.closed.Load() {
		return
	}
	e.keyOnce.Do(func() {
		e.bg.Add(1)
		go func() {
			defer e.bg.Done()
			e.fetchKey()
		}()
	})
}

func (e *Endpoint) fetchKey() {
	wait := e.cfg.KeyRetry
	for {
		ctx, cancel := context.WithTimeout(e.base, 15*time.Second)
		app, err := e.rc.CurrentApplication(ctx)
		cancel()
		if err == nil {
			if err = e.setKey(app.VerifyKey); err == nil {
				e.log.Info("interactions: public key fetched", "application", app.ID)
				return
			}
		}
		e.log.Warn("interactions: fetching the public key failed; answering 503 meanwhile", "err", err, "retry_in", wait)
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-e.base.Done():
			t.Stop()
			return
		}
		wait = min(2*wait, time.Minute)
	}
}

// Prefetch starts fetching the public key now rather than at the first
// request (a no-op when Config.PublicKey was given).
func (e *Endpoint) Prefetch() { e.startKeyFetch() }

// Ready reports whether the public key is known, so requests can be
// verified.
func (e *Endpoint) Ready() bool { return e.verifier.Load() != nil }
