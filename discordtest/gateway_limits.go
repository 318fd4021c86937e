package discordtest

import "time"

// validIntents holds every intent bit Discord defines (GUILDS, 1<<0,
// through DIRECT_MESSAGE_POLLS, 1<<25); any other bit is close 4013.
const validIntents = 1<<26 - 1

// Privileged intents (GUILD_MEMBERS, GUILD_PRESENCES, MESSAGE_CONTENT), for
// Gateway.DisallowedIntents.
const (
	IntentGuildMembers   = 1 << 1
	IntentGuildPresences = 1 << 8
	IntentMessageContent = 1 << 15
	// PrivilegedIntents is all three; set DisallowedIntents to it to act as
	// an application none of them is enabled for.
	PrivilegedIntents = IntentGuildMembers | IntentGuildPresences | IntentMessageContent
)

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
