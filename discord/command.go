package discord

// ApplicationCommand is a registered slash, user, message or entry point
// command, as sent to and returned by the commands routes. When creating
// one, leave ID, ApplicationID and Version zero.
type ApplicationCommand struct {
	ID                       Snowflake           `json:"id,omitempty"`
	Type                     CommandType         `json:"type,omitempty"` // zero means chat input
	ApplicationID            Snowflake           `json:"application_id,omitempty"`
	GuildID                  Snowflake           `json:"guild_id,omitempty"`
	Name                     string              `json:"name"`
	NameLocalizations        map[string]string   `json:"name_localizations,omitempty"`
	Description              string              `json:"description"` // "" for user and message commands
	DescriptionLocalizations map[string]string   `json:"description_localizations,omitempty"`
	Options                  []CommandOptionSpec `json:"options,omitempty"`
	// DefaultMemberPermissions is a permission bit set as a decimal
	// string; nil lets everyone use the command, "0" only admins.
	DefaultMemberPermissions *string `json:"default_member_permissions,omitempty"`
	NSFW                     bool    `json:"nsfw,omitempty"`
	// IntegrationTypes are where the command can be installed: 0 guild,
	// 1 user. Contexts are where it can run: 0 guild, 1 bot DM, 2 other DMs
	// and group DMs.
	IntegrationTypes []int     `json:"integration_types,omitempty"`
	Contexts         []int     `json:"contexts,omitempty"`
	Version          Snowflake `json:"version,omitempty"`
	Handler          int       `json:"handler,omitempty"` // entry point commands: 1 app, 2 Discord launches the Activity
}

// CommandOptionSpec declares one option of a chat-input command (or a
// subcommand or subcommand group holding Options of its own).
type CommandOptionSpec struct {
	Type                     OptionType            `json:"type"`
	Name                     string                `json:"name"`
	NameLocalizations        map[string]string     `json:"name_localizations,omitempty"`
	Description              string                `json:"description"`
	DescriptionLocalizations map[string]string     `json:"description_localizations,omitempty"`
	Required                 bool                  `json:"required,omitempty"`
	Choices                  []CommandOptionChoice `json:"choices,omitempty"`
	Options                  []CommandOptionSpec   `json:"options,omitempty"`
	ChannelTypes             []ChannelType         `json:"channel_types,omitempty"`
	MinValue                 *float64              `json:"min_value,omitempty"`
	MaxValue                 *float64              `json:"max_value,omitempty"`
	MinLength                *int                  `json:"min_length,omitempty"`
	MaxLength                *int                  `json:"max_length,omitempty"`
	Autocomplete             bool                  `json:"autocomplete,omitempty"`
	FileTypes                []string              `json:"file_types,omitempty"`
}
