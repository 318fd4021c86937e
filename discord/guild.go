package discord

import (
	"encoding/json"
	"time"
)

// Guild is a Discord server. The fields after Features are the ones that
// only GUILD_CREATE carries (members, channels, presences...).
type Guild struct {
	ID                          Snowflake   `json:"id"`
	Name                        string      `json:"name"`
	Icon                        *string     `json:"icon,omitempty"`
	Splash                      *string     `json:"splash,omitempty"`
	Banner                      *string     `json:"banner,omitempty"`
	Description                 *string     `json:"description,omitempty"`
	OwnerID                     Snowflake   `json:"owner_id,omitempty"`
	AFKChannelID                Snowflake   `json:"afk_channel_id,omitempty"`
	AFKTimeout                  int         `json:"afk_timeout,omitempty"`
	VerificationLevel           int         `json:"verification_level"`
	DefaultMessageNotifications int         `json:"default_message_notifications"`
	ExplicitContentFilter       int         `json:"explicit_content_filter"`
	MFALevel                    int         `json:"mfa_level"`
	NSFWLevel                   int         `json:"nsfw_level"`
	PremiumTier                 int         `json:"premium_tier"`
	PremiumSubscriptionCount    int         `json:"premium_subscription_count,omitempty"`
	SystemChannelID             Snowflake   `json:"system_channel_id,omitempty"`
	RulesChannelID              Snowflake   `json:"rules_channel_id,omitempty"`
	PublicUpdatesChannelID      Snowflake   `json:"public_updates_channel_id,omitempty"`
	PreferredLocale             string      `json:"preferred_locale,omitempty"`
	VanityURLCode               *string     `json:"vanity_url_code,omitempty"`
	MaxMembers                  int         `json:"max_members,omitempty"`
	Roles                       []Role      `json:"roles"`
	Emojis                      []Emoji     `json:"emojis"`
	Stickers                    []Sticker   `json:"stickers,omitempty"`
	Features                    []string    `json:"features"`
	ApplicationID               Snowflake   `json:"application_id,omitempty"`
	Permissions                 Permissions `json:"permissions,omitempty"` // only in some REST answers

	// GUILD_CREATE extras.
	JoinedAt    time.Time    `json:"joined_at,omitzero"`
	Large       bool         `json:"large,omitempty"`
	Unavailable bool         `json:"unavailable,omitempty"`
	MemberCount int          `json:"member_count,omitempty"`
	VoiceStates []VoiceState `json:"voice_states,omitempty"`
	Members     []Member     `json:"members,omitempty"`
	Channels    []Channel    `json:"channels,omitempty"`
	Threads     []Channel    `json:"threads,omitempty"`
	Presences   []Presence   `json:"presences,omitempty"`
}

// UnavailableGuild is what READY lists and what GUILD_DELETE carries during
// an outage.
type UnavailableGuild struct {
	ID          Snowflake `json:"id"`
	Unavailable bool      `json:"unavailable"`
}

// Sticker is a guild or standard sticker.
type Sticker struct {
	ID         Snowflake `json:"id"`
	Name       string    `json:"name"`
	Tags       string    `json:"tags,omitempty"`
	Type       int       `json:"type,omitempty"`
	FormatType int       `json:"format_type"`
	GuildID    Snowflake `json:"guild_id,omitempty"`
}

// VoiceState is a user's voice connection state in a guild.
type VoiceState struct {
	GuildID                 Snowflake  `json:"guild_id,omitempty"`
	ChannelID               Snowflake  `json:"channel_id,omitempty"`
	UserID                  Snowflake  `json:"user_id"`
	Member                  *Member    `json:"member,omitempty"`
	SessionID               string     `json:"session_id"`
	Deaf                    bool       `json:"deaf"`
	Mute                    bool       `json:"mute"`
	SelfDeaf                bool       `json:"self_deaf"`
	SelfMute                bool       `json:"self_mute"`
	SelfStream              bool       `json:"self_stream,omitempty"`
	SelfVideo               bool       `json:"self_video"`
	Suppress                bool       `json:"suppress"`
	RequestToSpeakTimestamp *time.Time `json:"request_to_speak_timestamp,omitempty"`
}

// Presence is a user's status and activities (PRESENCE_UPDATE and the
// presences of GUILD_CREATE). User carries at least the ID.
type Presence struct {
	User         User         `json:"user"`
	GuildID      Snowflake    `json:"guild_id,omitempty"`
	Status       string       `json:"status"` // online, idle, dnd, offline
	Activities   []Activity   `json:"activities"`
	ClientStatus ClientStatus `json:"client_status"`
}

// ClientStatus is the status per client platform; empty means not there.
type ClientStatus struct {
	Desktop string `json:"desktop,omitempty"`
	Mobile  string `json:"mobile,omitempty"`
	Web     string `json:"web,omitempty"`
}

// ActivityType says what an Activity is (playing, streaming...).
type ActivityType int

// Activity types.
const (
	ActivityPlaying   ActivityType = 0
	ActivityStreaming ActivityType = 1
	ActivityListening ActivityType = 2
	ActivityWatching  ActivityType = 3
	ActivityCustom    ActivityType = 4
	ActivityCompeting ActivityType = 5
)

// Activity is one thing a user is doing. Timestamps, Assets, Party and
// Secrets vary by client and are kept raw.
type Activity struct {
	Name          string          `json:"name"`
	Type          ActivityType    `json:"type"`
	URL           *string         `json:"url,omitempty"`
	CreatedAt     int64           `json:"created_at,omitempty"` // Unix milliseconds
	ApplicationID Snowflake       `json:"application_id,omitempty"`
	Details       *string         `json:"details,omitempty"`
	State         *string         `json:"state,omitempty"`
	Emoji         *Emoji          `json:"emoji,omitempty"`
	Instance      bool            `json:"instance,omitempty"`
	Flags         int             `json:"flags,omitempty"`
	Timestamps    json.RawMessage `json:"timestamps,omitempty"`
	Assets        json.RawMessage `json:"assets,omitempty"`
	Party         json.RawMessage `json:"party,omitempty"`
	Buttons       json.RawMessage `json:"buttons,omitempty"`
}
