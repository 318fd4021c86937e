package gateway

import "strconv"

// Opcode is a gateway payload's op field.
type Opcode int

// Gateway opcodes (developers/topics/opcodes-and-status-codes).
const (
	OpDispatch                Opcode = 0  // receive: an event
	OpHeartbeat               Opcode = 1  // both ways: keepalive, or a request for one
	OpIdentify                Opcode = 2  // send: start a new session
	OpPresenceUpdate          Opcode = 3  // send: update the bot's presence
	OpVoiceStateUpdate        Opcode = 4  // send: join, move or leave a voice channel
	OpResume                  Opcode = 6  // send: resume a dropped session
	OpReconnect               Opcode = 7  // receive: reconnect and resume
	OpRequestGuildMembers     Opcode = 8  // send: ask for GUILD_MEMBERS_CHUNK events
	OpInvalidSession          Opcode = 9  // receive: the session is invalid
	OpHello                   Opcode = 10 // receive: first payload, with the heartbeat interval
	OpHeartbeatACK            Opcode = 11 // receive: a heartbeat was received
	OpRequestSoundboardSounds Opcode = 31 // send: ask for SOUNDBOARD_SOUNDS events
	OpRequestChannelInfo      Opcode = 43 // send: ask for ephemeral channel data
)

var opNames = map[Opcode]string{
	OpDispatch:                "DISPATCH",
	OpHeartbeat:               "HEARTBEAT",
	OpIdentify:                "IDENTIFY",
	OpPresenceUpdate:          "PRESENCE_UPDATE",
	OpVoiceStateUpdate:        "VOICE_STATE_UPDATE",
	OpResume:                  "RESUME",
	OpReconnect:               "RECONNECT",
	OpRequestGuildMembers:     "REQUEST_GUILD_MEMBERS",
	OpInvalidSession:          "INVALID_SESSION",
	OpHello:                   "HELLO",
	OpHeartbeatACK:            "HEARTBEAT_ACK",
	OpRequestSoundboardSounds: "REQUEST_SOUNDBOARD_SOUNDS",
	OpRequestChannelInfo:      "REQUEST_CHANNEL_INFO",
}

// String returns the opcode's name as Discord's docs spell it, or its
// number for opcodes this package does not know.
func (op Opcode) String() string {
	if s, ok := opNames[op]; ok {
		return s
	}
	return "OP_" + strconv.Itoa(int(op))
}
