package discordtest

import (
	"time"

	"github.com/ipcord/ipcord/gateway"
)

// validIntents holds every intent bit Discord defines (GUILDS, 1<<0,
// through DIRECT_MESSAGE_POLLS, 1<<25); any other bit is close 4013.
const validIntents = 1<<26 - 1

// PrivilegedIntents are GUILD_MEMBERS, GUILD_PRESENCES and MESSAGE_CONTENT;
// set Gateway.DisallowedIntents to it to act as an application none of them
// is enabled for.
const PrivilegedIntents = int64(gateway.IntentGuildMembers | gateway.IntentGuildPresences | gateway.IntentMessageContent)

// Discord's send limit: 120 payloads per 60 s per connection, heartbeats
// included.
const (
	rateLimitCount  = 120
	rateLimitWindow = 60 * time.Second
)

// rateWindow is a sliding window over the times of the last 120 payloads:
// a payload is allowed when the one 120 payloads earlier is at least 60 s
// old. Sliding is the strict reading of "120 per 60 s", so a client that
// passes here passes any fixed-window server too.
type rateWindow struct {
	times [rateLimitCount]time.Time
	next  int
	n     int
}

func (w *rateWindow) allow(now time.Time) bool {
	if w.n == rateLimitCount && now.Sub(w.times[w.next]) < rateLimitWindow {
		return false
	}
	w.times[w.next] = now
	w.next = (w.next + 1) % rateLimitCount
	if w.n < rateLimitCount {
		w.n++
	}
	return true
}
