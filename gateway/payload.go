package gateway

import (
	"encoding/json"
	"strconv"
)

// VoiceStateUpdate is the Update Voice State payload (op 4). A nil
// ChannelID leaves voice.
type VoiceStateUpdate struct {
	GuildID   string  `json:"guild_id"`
	ChannelID *string `json:"channel_id"`
	SelfMute  bool    `json:"self_mute"`
	SelfDeaf  bool    `json:"self_deaf"`
}

// RequestGuildMembers is the Request Guild Members payload (op 8). Set
// Query (with Limit; "" and 0 mean every member) or UserIDs. Requesting
// every member is limited to one request per guild per 30 s; Discord
// answers extra ones with a RATE_LIMITED dispatch.
type RequestGuildMembers struct {
	GuildID   string   `json:"guild_id"`
	Query     *string  `json:"query,omitempty"`
	Limit     int      `json:"limit"`
	Presences bool     `json:"presences,omitempty"`
	UserIDs   []string `json:"user_ids,omitempty"`
	Nonce     string   `json:"nonce,omitempty"` // up to 32 bytes, echoed in the chunks
}

// RequestSoundboardSounds is the Request Soundboard Sounds payload (op 31).
type RequestSoundboardSounds struct {
	GuildIDs []string `json:"guild_ids"`
}

// RequestChannelInfo is the Request Channel Info payload (op 43). Fields
// are the ephemeral fields wanted: "status", "voice_start_time".
type RequestChannelInfo struct {
	GuildID string   `json:"guild_id"`
	Fields  []string `json:"fields"`
}

type identifyData struct {
	Token          string     `json:"token"`
	Properties     Properties `json:"properties"`
	LargeThreshold int        `json:"large_threshold,omitempty"`
	Shard          *[2]int    `json:"shard,omitempty"`
	Presence       *Presence  `json:"presence,omitempty"`
	Intents        Intents    `json:"intents"`
}

type resumeData struct {
	Token     string `json:"token"`
	SessionID string `json:"session_id"`
	Seq       int64  `json:"seq"`
}

// appendPayload appends {"op":op,"d":data} to dst, refusing payloads
// Discord would close the connection for.
func appendPayload(dst []byte, op Opcode, data any) ([]byte, error) {
	d, err := json.Marshal(data)
	if err != nil {
		return dst, err
	}
	return appendRawPayload(dst, op, d)
}

func appendRawPayload(dst []byte, op Opcode, d []byte) ([]byte, error) {
	size := len(`{"op":,"d":}`) + len(strconv.Itoa(int(op))) + len(d)
	if size > MaxPayload {
		return dst, &PayloadTooLargeError{Op: op, Size: size}
	}
	dst = append(dst, `{"op":`...)
	dst = strconv.AppendInt(dst, int64(op), 10)
	dst = append(dst, `,"d":`...)
	dst = append(dst, d...)
	return append(dst, '}'), nil
}

// appendHeartbeat appends op 1 with the last sequence number, or null.
func appendHeartbeat(dst []byte, seq int64, hasSeq bool) []byte {
	dst = append(dst, `{"op":1,"d":`...)
	if hasSeq {
		dst = strconv.AppendInt(dst, seq, 10)
	} else {
		dst = append(dst, "null"...)
	}
	return append(dst, '}')
}
