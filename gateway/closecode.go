package gateway

import "strconv"

// CloseCode is a WebSocket close code as Discord's gateway uses it.
type CloseCode int

// Discord's gateway close codes (developers/topics/opcodes-and-status-codes).
const (
	CloseUnknownError         CloseCode = 4000
	CloseUnknownOpcode        CloseCode = 4001
	CloseDecodeError          CloseCode = 4002
	CloseNotAuthenticated     CloseCode = 4003
	CloseAuthenticationFailed CloseCode = 4004
	CloseAlreadyAuthenticated CloseCode = 4005
	CloseInvalidSeq           CloseCode = 4007
	CloseRateLimited          CloseCode = 4008
	CloseSessionTimedOut      CloseCode = 4009
	CloseInvalidShard         CloseCode = 4010
	CloseShardingRequired     CloseCode = 4011
	CloseInvalidAPIVersion    CloseCode = 4012
	CloseInvalidIntents       CloseCode = 4013
	CloseDisallowedIntents    CloseCode = 4014
)

// Action is what a driver does after a connection ends.
type Action int

const (
	// ActionResume: open a new connection and RESUME the session.
	ActionResume Action = iota
	// ActionIdentify: the session is gone; open a new connection and
	// IDENTIFY (this takes an identify slot).
	ActionIdentify
	// ActionStop: do not reconnect; reconnecting would fail the same way
	// (bad token, bad intents, bad shard). A human must fix the config.
	ActionStop
)

func (a Action) String() string {
	switch a {
	case ActionResume:
		return "resume"
	case ActionIdentify:
		return "identify"
	case ActionStop:
		return "stop"
	}
	return "Action(" + strconv.Itoa(int(a)) + ")"
}

// ActionFor returns what to do after Discord closed the connection with
// code. Codes that would fail again are fatal; 4007 and 4009 invalidate
// the session; every other code (including plain WebSocket codes and codes
// Discord adds later) keeps the session, so the bot loses no events.
func ActionFor(code CloseCode) Action {
	switch code {
	case CloseAuthenticationFailed, CloseInvalidShard, CloseShardingRequired,
		CloseInvalidAPIVersion, CloseInvalidIntents, CloseDisallowedIntents:
		return ActionStop
	case CloseInvalidSeq, CloseSessionTimedOut:
		return ActionIdentify
	}
	return ActionResume
}

var closeNames = map[CloseCode]string{
	CloseUnknownError:         "unknown error",
	CloseUnknownOpcode:        "unknown opcode",
	CloseDecodeError:          "decode error",
	CloseNotAuthenticated:     "not authenticated",
	CloseAuthenticationFailed: "authentication failed",
	CloseAlreadyAuthenticated: "already authenticated",
	CloseInvalidSeq:           "invalid seq",
	CloseRateLimited:          "rate limited",
	CloseSessionTimedOut:      "session timed out",
	CloseInvalidShard:         "invalid shard",
	CloseShardingRequired:     "sharding required",
	CloseInvalidAPIVersion:    "invalid API version",
	CloseInvalidIntents:       "invalid intent(s)",
	CloseDisallowedIntents:    "disallowed intent(s)",
}

// String returns the code and Discord's name for it.
func (c CloseCode) String() string {
	if s, ok := closeNames[c]; ok {
		return strconv.Itoa(int(c)) + " " + s
	}
	return strconv.Itoa(int(c))
}
