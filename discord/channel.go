package discord

import "time"

// ChannelType says what a Channel is.
type ChannelType int

// Channel types.
const (
	ChannelGuildText          ChannelType = 0
	ChannelDM                 ChannelType = 1
	ChannelGuildVoice         ChannelType = 2
	ChannelGroupDM            ChannelType = 3
	ChannelGuildCategory      ChannelType = 4
	ChannelGuildAnnouncement  ChannelType = 5
	ChannelAnnouncementThread ChannelType = 10
	ChannelPublicThread       ChannelType = 11
	ChannelPrivateThread      ChannelType = 12
	ChannelGuildStageVoice    ChannelType = 13
	ChannelGuildDirectory     ChannelType = 14
	ChannelGuildForum         ChannelType = 15
	ChannelGuildMedia         ChannelType = 16
)

// IsThread reports whether channels of this type are threads.
func (t ChannelType) IsThread() bool {
	return t == ChannelAnnouncementThread || t == ChannelPublicThread || t == ChannelPrivateThread
}

// Channel is a guild channel, a thread, or a DM.
type Channel struct {
	ID                   Snowflake             `json:"id"`
	Type                 ChannelType           `json:"type"`
	GuildID              Snowflake             `json:"guild_id,omitempty"`
	Position             int                   `json:"position,omitempty"`
	PermissionOverwrites []PermissionOverwrite `json:"permission_overwrites,omitempty"`
	Name                 string                `json:"name,omitempty"`
	Topic                *string               `json:"topic,omitempty"`
	NSFW                 bool                  `json:"nsfw,omitempty"`
	LastMessageID        Snowflake             `json:"last_message_id,omitempty"`
	Bitrate              int                   `json:"bitrate,omitempty"`
	UserLimit            int                   `json:"user_limit,omitempty"`
	RateLimitPerUser     int                   `json:"rate_limit_per_user,omitempty"`
	Recipients           []User                `json:"recipients,omitempty"`
	Icon                 *string               `json:"icon,omitempty"`
	OwnerID              Snowflake             `json:"owner_id,omitempty"`
	ApplicationID        Snowflake             `json:"application_id,omitempty"`
	ParentID             Snowflake             `json:"parent_id,omitempty"`
	LastPinTimestamp     *time.Time            `json:"last_pin_timestamp,omitempty"`
	RTCRegion            *string               `json:"rtc_region,omitempty"`
	MessageCount         int                   `json:"message_count,omitempty"`
	MemberCount          int                   `json:"member_count,omitempty"`
	ThreadMetadata       *ThreadMetadata       `json:"thread_metadata,omitempty"`
	Flags                int                   `json:"flags,omitempty"`
	Permissions          Permissions           `json:"permissions,omitempty"` // in resolved interaction data
}

// Mention returns the text that links the channel in a message.
func (c *Channel) Mention() string { return "<#" + c.ID.String() + ">" }

// PermissionOverwrite grants or denies permissions to a role (Type 0) or a
// member (Type 1) in one channel.
type PermissionOverwrite struct {
	ID    Snowflake   `json:"id"`
	Type  int         `json:"type"`
	Allow Permissions `json:"allow"`
	Deny  Permissions `json:"deny"`
}

// ThreadMetadata is the thread-only part of a Channel.
type ThreadMetadata struct {
	Archived            bool       `json:"archived"`
	AutoArchiveDuration int        `json:"auto_archive_duration"`
	ArchiveTimestamp    time.Time  `json:"archive_timestamp,omitzero"`
	Locked              bool       `json:"locked"`
	Invitable           *bool      `json:"invitable,omitempty"`
	CreateTimestamp     *time.Time `json:"create_timestamp,omitempty"`
}
