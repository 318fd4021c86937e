package gateway

import (
	"encoding/json"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Version is the gateway API version this package speaks.
const Version = 10

// DefaultURL is used when Config.URL is empty. Production bots should pass
// the URL from Get Gateway Bot instead.
const DefaultURL = "wss://gateway.discord.gg"

// DefaultMaxMessage is the default cap on one received message, before
// and after decompression. It also bounds what a decompression bomb can
// make a connection hold: output is inflated in pieces that stop at the
// cap, so a hostile stream costs about MaxMessage of memory, not what it
// would inflate to.
// Discord's largest messages are GUILD_CREATEs of big guilds, a few MB;
// a bot that sees ErrMessageTooBig for a real one raises
// Config.MaxMessage.
const DefaultMaxMessage = 16 << 20

// DefaultMinHeartbeatInterval is the floor a HELLO's heartbeat_interval is
// raised to when Config.MinHeartbeatInterval is 0. Discord sends 41.25 s;
// a server that asks for less than a second is broken or hostile, and
// obeying it would spend more than half of the 120 payloads a connection
// may send per 60 s on heartbeats (a HELLO of 1 ms, obeyed, sends
// hundreds a second and gets the connection closed with 4008). At one a
// second, heartbeats take at most 60 of those 120.
const DefaultMinHeartbeatInterval = time.Second

// DefaultZstdMaxWindow is the default cap on the zstd window a server may
// ask for; Discord uses far less.
const DefaultZstdMaxWindow = 8 << 20

// Compression is the transport compression requested in the connect URL.
type Compression int

const (
	CompressNone Compression = iota // plain JSON text messages
	CompressZlib                    // compress=zlib-stream
	CompressZstd                    // compress=zstd-stream
)

// String returns the compress query value, or "none".
func (c Compression) String() string {
	switch c {
	case CompressZlib:
		return "zlib-stream"
	case CompressZstd:
		return "zstd-stream"
	}
	return "none"
}

// Properties are IDENTIFY's connection properties.
type Properties struct {
	OS      string `json:"os"`
	Browser string `json:"browser"`
	Device  string `json:"device"`
}

// Config describes one shard's connection. The zero value of every field
// but Token is usable.
type Config struct {
	Token      string  // bot token, without the "Bot " prefix
	Intents    Intents // gateway intents
	ShardID    int     // this shard's id, in [0, ShardCount)
	ShardCount int     // total shards; 0 means no shard field is sent

	Compression Compression // transport compression; zstd is the cheapest on CPU
	URL         string      // base gateway URL (Get Gateway Bot); DefaultURL if empty

	Properties     Properties // IDENTIFY properties; zero means runtime.GOOS and "ipcord"
	Presence       *Presence  // initial presence, sent with IDENTIFY
	LargeThreshold int        // 50..250 (else New fails); 0 leaves Discord's default (50)

	// IgnoreResumeURL keeps resuming on URL instead of the session's
	// resume_gateway_url, for bots that reach Discord through a gateway
	// proxy.
	IgnoreResumeURL bool

	// MaxMessage caps one received message (after decompression);
	// DefaultMaxMessage if 0.
	MaxMessage int
	// ZstdMaxWindow caps the zstd window; a stream asking for more fails
	// with ErrDecompress. DefaultZstdMaxWindow if 0.
	ZstdMaxWindow int
	// ZstdFastDecoder decodes zstd-stream with klauspost/compress/zstd
	// instead of ipcord's own decoder: about 10% less CPU per decompressed
	// byte (a few percent of the whole receive path), but it holds the
	// declared window plus 448 KiB per connection from the first message
	// (1.5 MiB for a 1 MiB window), where ipcord's holds only the history
	// the stream has output plus about 20 KiB (a quiet shard that has
	// received 42 KB: 75 KiB). For a bot with few shards and many events
	// per shard. See BENCHMARKS.md.
	ZstdFastDecoder bool

	// MinHeartbeatInterval is the floor for HELLO's heartbeat_interval: a
	// shorter one is raised to it. DefaultMinHeartbeatInterval if 0; tests
	// against a fake with a fast heartbeat lower it.
	MinHeartbeatInterval time.Duration

	// Jitter returns a number in [0, 1) that scales the first heartbeat's
	// delay. Nil uses math/rand/v2; tests inject a constant.
	Jitter func() float64

	// Logger receives debug records of state changes; nil is silent.
	Logger *slog.Logger
}

// Intents is the gateway intents bitfield.
type Intents uint64

// Gateway intents (developers/events/gateway#gateway-intents).
const (
	IntentGuilds                      Intents = 1 << 0
	IntentGuildMembers                Intents = 1 << 1 // privileged
	IntentGuildModeration             Intents = 1 << 2
	IntentGuildExpressions            Intents = 1 << 3
	IntentGuildIntegrations           Intents = 1 << 4
	IntentGuildWebhooks               Intents = 1 << 5
	IntentGuildInvites                Intents = 1 << 6
	IntentGuildVoiceStates            Intents = 1 << 7
	IntentGuildPresences              Intents = 1 << 8 // privileged
	IntentGuildMessages               Intents = 1 << 9
	IntentGuildMessageReactions       Intents = 1 << 10
	IntentGuildMessageTyping          Intents = 1 << 11
	IntentDirectMessages              Intents = 1 << 12
	IntentDirectMessageReactions      Intents = 1 << 13
	IntentDirectMessageTyping         Intents = 1 << 14
	IntentMessageContent              Intents = 1 << 15 // privileged
	IntentGuildScheduledEvents        Intents = 1 << 16
	IntentAutoModerationConfiguration Intents = 1 << 20
	IntentAutoModerationExecution     Intents = 1 << 21
	IntentGuildMessagePolls           Intents = 1 << 24
	IntentDirectMessagePolls          Intents = 1 << 25
)

// Presence is the Update Presence payload (op 3), also sent in IDENTIFY.
type Presence struct {
	Since      *int64            `json:"since"` // ms since idle, nil if not idle
	Activities []json.RawMessage `json:"activities"`
	Status     string            `json:"status"` // online, dnd, idle, invisible, offline
	AFK        bool              `json:"afk"`
}

func (c *Config) maxMessage() int {
	if c.MaxMessage > 0 {
		return c.MaxMessage
	}
	return DefaultMaxMessage
}

func (c *Config) minHeartbeat() time.Duration {
	if c.MinHeartbeatInterval > 0 {
		return c.MinHeartbeatInterval
	}
	return DefaultMinHeartbeatInterval
}

func (c *Config) jitter() float64 {
	if c.Jitter != nil {
		j := c.Jitter()
		if j >= 0 && j < 1 {
			return j
		}
		return 0
	}
	return rand.Float64()
}

// ConnectURL returns the URL to dial for base (a Get Gateway Bot URL or a
// resume_gateway_url): base with v, encoding and compress set, replacing
// whatever query base had.
func ConnectURL(base string, c Compression) (string, error) {
	if base == "" {
		base = DefaultURL
	}
	u, err := url.Parse(base)
	if err != nil {
		return "", err
	}
	switch strings.ToLower(u.Scheme) {
	case "ws", "wss":
	default:
		return "", &url.Error{Op: "parse", URL: base, Err: errBadScheme}
	}
	if u.Path == "" {
		u.Path = "/"
	}
	q := "v=" + strconv.Itoa(Version) + "&encoding=json"
	if c != CompressNone {
		q += "&compress=" + c.String()
	}
	u.RawQuery = q
	u.Fragment = ""
	return u.String(), nil
}
