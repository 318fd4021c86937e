package discord

// GatewayBot is the answer of Get Gateway Bot: where to connect, how many
// shards Discord recommends, and how many sessions may still be started.
type GatewayBot struct {
	URL               string            `json:"url"`
	Shards            int               `json:"shards"`
	SessionStartLimit SessionStartLimit `json:"session_start_limit"`
}

// SessionStartLimit is the IDENTIFY budget: Remaining of Total identifies
// until ResetAfter milliseconds pass, and MaxConcurrency identifies per 5
// seconds.
type SessionStartLimit struct {
	Total          int `json:"total"`
	Remaining      int `json:"remaining"`
	ResetAfter     int `json:"reset_after"` // milliseconds
	MaxConcurrency int `json:"max_concurrency"`
}
