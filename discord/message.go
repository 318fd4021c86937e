package discord

import (
	"encoding/json"
	"time"
)

// MessageFlags is a message's flag bit set.
type MessageFlags int

// Message flags that bots set.
const (
	MessageFlagSuppressEmbeds       MessageFlags = 1 << 2
	MessageFlagEphemeral            MessageFlags = 1 << 6
	MessageFlagLoading              MessageFlags = 1 << 7
	MessageFlagSuppressNotification MessageFlags = 1 << 12
	MessageFlagIsComponentsV2       MessageFlags = 1 << 15
)

// Message is a message in a channel.
type Message struct {
	ID               Snowflake         `json:"id"`
	ChannelID        Snowflake         `json:"channel_id"`
	GuildID          Snowflake         `json:"guild_id,omitempty"`
	Author           User              `json:"author"`
	Member           *Member           `json:"member,omitempty"`
	Content          string            `json:"content"`
	Timestamp        time.Time         `json:"timestamp,omitzero"`
	EditedTimestamp  *time.Time        `json:"edited_timestamp,omitempty"`
	TTS              bool              `json:"tts"`
	MentionEveryone  bool              `json:"mention_everyone"`
	Mentions         []User            `json:"mentions"`
	MentionRoles     []Snowflake       `json:"mention_roles"`
	Attachments      []Attachment      `json:"attachments"`
	Embeds           []Embed           `json:"embeds"`
	Reactions        []Reaction        `json:"reactions,omitempty"`
	Nonce            json.RawMessage   `json:"nonce,omitempty"` // a string or an integer
	Pinned           bool              `json:"pinned"`
	WebhookID        Snowflake         `json:"webhook_id,omitempty"`
	Type             int               `json:"type"`
	ApplicationID    Snowflake         `json:"application_id,omitempty"`
	MessageReference *MessageReference `json:"message_reference,omitempty"`
	Flags            MessageFlags      `json:"flags,omitempty"`
	Components       []Component       `json:"components,omitempty"`
	Thread           *Channel          `json:"thread,omitempty"`
	Position         int               `json:"position,omitempty"`
}

// Reaction is the count of one emoji's reactions on a message.
type Reaction struct {
	Count int   `json:"count"`
	Me    bool  `json:"me"`
	Emoji Emoji `json:"emoji"`
}

// MessageReference points at another message (a reply, a crosspost).
type MessageReference struct {
	Type            int       `json:"type,omitempty"`
	MessageID       Snowflake `json:"message_id,omitempty"`
	ChannelID       Snowflake `json:"channel_id,omitempty"`
	GuildID         Snowflake `json:"guild_id,omitempty"`
	FailIfNotExists *bool     `json:"fail_if_not_exists,omitempty"`
}

// Attachment is a file attached to a message. When sending, only ID (the
// index n of the multipart part files[n]), Filename and Description are
// used.
type Attachment struct {
	ID          Snowflake `json:"id"`
	Filename    string    `json:"filename"`
	Title       string    `json:"title,omitempty"`
	Description string    `json:"description,omitempty"`
	ContentType string    `json:"content_type,omitempty"`
	Size        int       `json:"size,omitempty"`
	URL         string    `json:"url,omitempty"`
	ProxyURL    string    `json:"proxy_url,omitempty"`
	Height      *int      `json:"height,omitempty"`
	Width       *int      `json:"width,omitempty"`
	Ephemeral   bool      `json:"ephemeral,omitempty"`
	Flags       int       `json:"flags,omitempty"`
}

// AllowedMentions limits who a message may ping. Parse takes "roles",
// "users" and "everyone". The zero value (sent as {"parse":[]}) pings
// nobody, which is the safe default for echoing user text.
type AllowedMentions struct {
	Parse       []string    `json:"parse"`
	Roles       []Snowflake `json:"roles,omitempty"`
	Users       []Snowflake `json:"users,omitempty"`
	RepliedUser bool        `json:"replied_user,omitempty"`
}

// MarshalJSON writes a nil Parse as [] so that the zero value means
// "nobody" rather than Discord's default of parsing everything.
func (a AllowedMentions) MarshalJSON() ([]byte, error) {
	type plain AllowedMentions
	if a.Parse == nil {
		a.Parse = []string{}
	}
	return json.Marshal(plain(a))
}

// Embed is a rich embed. Limits (checked by the interactions builders):
// title 256, description 4096, 25 fields, field name 256 and value 1024,
// footer 2048, author name 256, 6000 characters in total per message.
type Embed struct {
	Title       string         `json:"title,omitempty"`
	Type        string         `json:"type,omitempty"`
	Description string         `json:"description,omitempty"`
	URL         string         `json:"url,omitempty"`
	Timestamp   *time.Time     `json:"timestamp,omitempty"`
	Color       int            `json:"color,omitempty"`
	Footer      *EmbedFooter   `json:"footer,omitempty"`
	Image       *EmbedMedia    `json:"image,omitempty"`
	Thumbnail   *EmbedMedia    `json:"thumbnail,omitempty"`
	Video       *EmbedMedia    `json:"video,omitempty"`
	Provider    *EmbedProvider `json:"provider,omitempty"`
	Author      *EmbedAuthor   `json:"author,omitempty"`
	Fields      []EmbedField   `json:"fields,omitempty"`
}

// EmbedFooter is an embed's footer.
type EmbedFooter struct {
	Text         string `json:"text"`
	IconURL      string `json:"icon_url,omitempty"`
	ProxyIconURL string `json:"proxy_icon_url,omitempty"`
}

// EmbedMedia is an embed's image, thumbnail or video.
type EmbedMedia struct {
	URL      string `json:"url"`
	ProxyURL string `json:"proxy_url,omitempty"`
	Height   int    `json:"height,omitempty"`
	Width    int    `json:"width,omitempty"`
}

// EmbedProvider names the site an embed came from.
type EmbedProvider struct {
	Name string `json:"name,omitempty"`
	URL  string `json:"url,omitempty"`
}

// EmbedAuthor is an embed's author line.
type EmbedAuthor struct {
	Name         string `json:"name"`
	URL          string `json:"url,omitempty"`
	IconURL      string `json:"icon_url,omitempty"`
	ProxyIconURL string `json:"proxy_icon_url,omitempty"`
}

// EmbedField is one name/value field of an embed.
type EmbedField struct {
	Name   string `json:"name"`
	Value  string `json:"value"`
	Inline bool   `json:"inline,omitempty"`
}

// MessageParams is what a bot sends to create or edit a message: the body
// of Create Message, of webhook follow-ups and @original edits, and of
// interaction responses 4 and 7. Attachments lists the files sent with it
// (their IDs are the multipart indexes) and, on an edit, the existing
// attachments to keep.
type MessageParams struct {
	Content          string            `json:"content,omitempty"`
	TTS              bool              `json:"tts,omitempty"`
	Embeds           []Embed           `json:"embeds,omitzero"`
	AllowedMentions  *AllowedMentions  `json:"allowed_mentions,omitempty"`
	Flags            MessageFlags      `json:"flags,omitempty"`
	Components       []Component       `json:"components,omitzero"`
	Attachments      []Attachment      `json:"attachments,omitzero"`
	MessageReference *MessageReference `json:"message_reference,omitempty"`
}
