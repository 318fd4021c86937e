package discord

import "time"

// User is a Discord account (a person or a bot).
type User struct {
	ID            Snowflake `json:"id"`
	Username      string    `json:"username"`
	Discriminator string    `json:"discriminator,omitempty"`
	GlobalName    *string   `json:"global_name,omitempty"`
	Avatar        *string   `json:"avatar,omitempty"`
	Bot           bool      `json:"bot,omitempty"`
	System        bool      `json:"system,omitempty"`
	MFAEnabled    bool      `json:"mfa_enabled,omitempty"`
	Banner        *string   `json:"banner,omitempty"`
	AccentColor   *int      `json:"accent_color,omitempty"`
	Locale        string    `json:"locale,omitempty"`
	Flags         int       `json:"flags,omitempty"`
	PremiumType   int       `json:"premium_type,omitempty"`
	PublicFlags   int       `json:"public_flags,omitempty"`
}

// DisplayName returns the name Discord shows: the global name when set,
// else the username.
func (u *User) DisplayName() string {
	if u.GlobalName != nil && *u.GlobalName != "" {
		return *u.GlobalName
	}
	return u.Username
}

// Mention returns the text that mentions the user in a message.
func (u *User) Mention() string { return "<@" + u.ID.String() + ">" }

// Member is a user's membership of a guild. User is nil in the places
// Discord leaves it out (resolved data, MESSAGE_CREATE's member).
type Member struct {
	User                       *User       `json:"user,omitempty"`
	Nick                       *string     `json:"nick,omitempty"`
	Avatar                     *string     `json:"avatar,omitempty"`
	Roles                      []Snowflake `json:"roles"`
	JoinedAt                   time.Time   `json:"joined_at,omitzero"`
	PremiumSince               *time.Time  `json:"premium_since,omitempty"`
	Deaf                       bool        `json:"deaf,omitempty"`
	Mute                       bool        `json:"mute,omitempty"`
	Flags                      int         `json:"flags,omitempty"`
	Pending                    bool        `json:"pending,omitempty"`
	Permissions                Permissions `json:"permissions,omitempty"`
	CommunicationDisabledUntil *time.Time  `json:"communication_disabled_until,omitempty"`
}

// Role is a guild role.
type Role struct {
	ID           Snowflake   `json:"id"`
	Name         string      `json:"name"`
	Color        int         `json:"color"`
	Hoist        bool        `json:"hoist"`
	Icon         *string     `json:"icon,omitempty"`
	UnicodeEmoji *string     `json:"unicode_emoji,omitempty"`
	Position     int         `json:"position"`
	Permissions  Permissions `json:"permissions"`
	Managed      bool        `json:"managed"`
	Mentionable  bool        `json:"mentionable"`
	Flags        int         `json:"flags,omitempty"`
	Tags         *RoleTags   `json:"tags,omitempty"`
}

// RoleTags says what a managed role belongs to. Discord encodes the boolean
// tags as null-when-true; those are kept raw-free as presence flags would
// need a custom decoder, so only the IDs are mapped.
type RoleTags struct {
	BotID         Snowflake `json:"bot_id,omitempty"`
	IntegrationID Snowflake `json:"integration_id,omitempty"`
}

// Emoji is a custom or Unicode emoji. ID is zero for Unicode emoji, whose
// Name is the character itself.
type Emoji struct {
	ID        Snowflake   `json:"id,omitempty"`
	Name      string      `json:"name,omitempty"`
	Roles     []Snowflake `json:"roles,omitempty"`
	User      *User       `json:"user,omitempty"`
	Animated  bool        `json:"animated,omitempty"`
	Managed   bool        `json:"managed,omitempty"`
	Available *bool       `json:"available,omitempty"`
}
