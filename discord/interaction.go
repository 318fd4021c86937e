package discord

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// InteractionType says what an Interaction is.
type InteractionType int

// Interaction types.
const (
	InteractionPing               InteractionType = 1
	InteractionApplicationCommand InteractionType = 2
	InteractionMessageComponent   InteractionType = 3
	InteractionAutocomplete       InteractionType = 4
	InteractionModalSubmit        InteractionType = 5
)

func (t InteractionType) String() string {
	switch t {
	case InteractionPing:
		return "PING"
	case InteractionApplicationCommand:
		return "APPLICATION_COMMAND"
	case InteractionMessageComponent:
		return "MESSAGE_COMPONENT"
	case InteractionAutocomplete:
		return "APPLICATION_COMMAND_AUTOCOMPLETE"
	case InteractionModalSubmit:
		return "MODAL_SUBMIT"
	}
	return "InteractionType(" + strconv.Itoa(int(t)) + ")"
}

// ErrWrongInteractionType is returned by Interaction's data accessors when
// the interaction's type has no such data.
var ErrWrongInteractionType = errors.New("discord: wrong interaction type for this data")

// Interaction is what Discord sends when a user runs a command, presses a
// component, types into an autocompleted option or submits a modal (and
// the PING that checks an endpoint).
//
// Data stays raw because its shape depends on Type; CommandData,
// ComponentData and ModalData decode it.
type Interaction struct {
	ID             Snowflake       `json:"id"`
	ApplicationID  Snowflake       `json:"application_id"`
	Type           InteractionType `json:"type"`
	Data           json.RawMessage `json:"data,omitempty"`
	GuildID        Snowflake       `json:"guild_id,omitempty"`
	Channel        *Channel        `json:"channel,omitempty"`
	ChannelID      Snowflake       `json:"channel_id,omitempty"`
	Member         *Member         `json:"member,omitempty"` // in guilds
	User           *User           `json:"user,omitempty"`   // in DMs
	Token          string          `json:"token"`
	Version        int             `json:"version"`
	Message        *Message        `json:"message,omitempty"` // for components
	AppPermissions Permissions     `json:"app_permissions,omitempty"`
	Locale         string          `json:"locale,omitempty"`
	GuildLocale    string          `json:"guild_locale,omitempty"`
	Context        *int            `json:"context,omitempty"`
	// AuthorizingIntegrationOwners maps an installation context ("0"
	// guild, "1" user) to the guild or user ID that installed the app.
	AuthorizingIntegrationOwners map[string]Snowflake `json:"authorizing_integration_owners,omitempty"`
	AttachmentSizeLimit          int                  `json:"attachment_size_limit,omitempty"`
}

// Author returns the user who triggered the interaction, from Member in a
// guild or User in a DM; nil for a PING.
func (in *Interaction) Author() *User {
	if in.Member != nil && in.Member.User != nil {
		return in.Member.User
	}
	return in.User
}

// Deadline returns when the token stops working for follow-ups: 15 minutes
// after the interaction was created (from its ID's timestamp).
func (in *Interaction) Deadline() time.Time { return in.ID.Timestamp().Add(15 * time.Minute) }

// CommandData decodes Data of an application command or autocomplete.
func (in *Interaction) CommandData() (*ApplicationCommandData, error) {
	if in.Type != InteractionApplicationCommand && in.Type != InteractionAutocomplete {
		return nil, fmt.Errorf("%w: %v has no command data", ErrWrongInteractionType, in.Type)
	}
	var d ApplicationCommandData
	return &d, decodeData(in.Data, &d)
}

// ComponentData decodes Data of a message component interaction.
func (in *Interaction) ComponentData() (*MessageComponentData, error) {
	if in.Type != InteractionMessageComponent {
		return nil, fmt.Errorf("%w: %v has no component data", ErrWrongInteractionType, in.Type)
	}
	var d MessageComponentData
	return &d, decodeData(in.Data, &d)
}

// ModalData decodes Data of a modal submit.
func (in *Interaction) ModalData() (*ModalSubmitData, error) {
	if in.Type != InteractionModalSubmit {
		return nil, fmt.Errorf("%w: %v has no modal data", ErrWrongInteractionType, in.Type)
	}
	var d ModalSubmitData
	return &d, decodeData(in.Data, &d)
}

// ErrBadData is returned (wrapped) when an interaction's data is missing or
// does not decode.
var ErrBadData = errors.New("discord: bad interaction data")

func decodeData(raw json.RawMessage, v any) error {
	if len(raw) == 0 || string(raw) == "null" {
		return fmt.Errorf("%w: missing", ErrBadData)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("%w: %w", ErrBadData, err)
	}
	return nil
}

// CommandType says what kind of application command was run.
type CommandType int

// Application command types.
const (
	CommandChatInput    CommandType = 1 // slash command
	CommandUser         CommandType = 2 // user context menu
	CommandMessage      CommandType = 3 // message context menu
	CommandPrimaryEntry CommandType = 4
)

// OptionType is the type of a command option.
type OptionType int

// Command option types.
const (
	OptionSubCommand      OptionType = 1
	OptionSubCommandGroup OptionType = 2
	OptionString          OptionType = 3
	OptionInteger         OptionType = 4
	OptionBoolean         OptionType = 5
	OptionUser            OptionType = 6
	OptionChannel         OptionType = 7
	OptionRole            OptionType = 8
	OptionMentionable     OptionType = 9
	OptionNumber          OptionType = 10
	OptionAttachment      OptionType = 11
)

// ApplicationCommandData is the data of an application command or
// autocomplete interaction.
type ApplicationCommandData struct {
	ID       Snowflake       `json:"id"`
	Name     string          `json:"name"`
	Type     CommandType     `json:"type"`
	Resolved *ResolvedData   `json:"resolved,omitempty"`
	Options  []CommandOption `json:"options,omitempty"`
	GuildID  Snowflake       `json:"guild_id,omitempty"`
	TargetID Snowflake       `json:"target_id,omitempty"` // context menu target
}

// Path returns the full name of the command that ran, as Discord nests it
// — the command, then the subcommand group and the subcommand when present
// — and the options given to that innermost (sub)command.
func (d *ApplicationCommandData) Path() (path []string, options []CommandOption) {
	path = []string{d.Name}
	options = d.Options
	// At most two levels: group then subcommand.
	for range 2 {
		if len(options) != 1 || (options[0].Type != OptionSubCommand && options[0].Type != OptionSubCommandGroup) {
			break
		}
		path = append(path, options[0].Name)
		options = options[0].Options
	}
	return path, options
}

// Option returns the option called name given to the innermost
// (sub)command, or nil.
func (d *ApplicationCommandData) Option(name string) *CommandOption {
	_, opts := d.Path()
	for i := range opts {
		if opts[i].Name == name {
			return &opts[i]
		}
	}
	return nil
}

// Focused returns the option the user is typing into (autocomplete), or nil.
func (d *ApplicationCommandData) Focused() *CommandOption {
	_, opts := d.Path()
	for i := range opts {
		if opts[i].Focused {
			return &opts[i]
		}
	}
	return nil
}

// CommandOption is an option given to a command, or a subcommand (group)
// holding its own Options. Value is raw because its JSON type follows Type;
// the As methods decode it.
type CommandOption struct {
	Name    string          `json:"name"`
	Type    OptionType      `json:"type"`
	Value   json.RawMessage `json:"value,omitempty"`
	Options []CommandOption `json:"options,omitempty"`
	Focused bool            `json:"focused,omitempty"`
}

// ErrOptionValue is returned (wrapped) when an option's value is not of
// the requested kind.
var ErrOptionValue = errors.New("discord: option value of another type")

// AsString returns a string value (string options, and the partial text of
// any focused autocomplete option).
func (o *CommandOption) AsString() (string, error) {
	var s string
	if err := json.Unmarshal(o.Value, &s); err != nil {
		return "", fmt.Errorf("%w: %s is not a string", ErrOptionValue, o.Name)
	}
	return s, nil
}

// AsInt returns an integer value.
func (o *CommandOption) AsInt() (int64, error) {
	n, err := strconv.ParseInt(string(o.Value), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: %s is not an integer", ErrOptionValue, o.Name)
	}
	return n, nil
}

// AsFloat returns a number value.
func (o *CommandOption) AsFloat() (float64, error) {
	f, err := strconv.ParseFloat(string(o.Value), 64)
	if err != nil {
		return 0, fmt.Errorf("%w: %s is not a number", ErrOptionValue, o.Name)
	}
	return f, nil
}

// AsBool returns a boolean value.
func (o *CommandOption) AsBool() (bool, error) {
	switch string(o.Value) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, fmt.Errorf("%w: %s is not a boolean", ErrOptionValue, o.Name)
}

// AsSnowflake returns the ID a user, channel, role, mentionable or
// attachment option carries; look it up in the Resolved data.
func (o *CommandOption) AsSnowflake() (Snowflake, error) {
	var s Snowflake
	if len(o.Value) == 0 || s.UnmarshalJSON(o.Value) != nil {
		return 0, fmt.Errorf("%w: %s is not an ID", ErrOptionValue, o.Name)
	}
	return s, nil
}

// ResolvedData holds the full objects behind the IDs in options and
// select values.
type ResolvedData struct {
	Users       map[Snowflake]User       `json:"users,omitempty"`
	Members     map[Snowflake]Member     `json:"members,omitempty"` // without User
	Roles       map[Snowflake]Role       `json:"roles,omitempty"`
	Channels    map[Snowflake]Channel    `json:"channels,omitempty"`
	Messages    map[Snowflake]Message    `json:"messages,omitempty"`
	Attachments map[Snowflake]Attachment `json:"attachments,omitempty"`
}

// MessageComponentData is the data of a component interaction.
type MessageComponentData struct {
	CustomID      string        `json:"custom_id"`
	ComponentType ComponentType `json:"component_type"`
	ID            int           `json:"id,omitempty"`     // the component's numeric identifier
	Values        []string      `json:"values,omitempty"` // selects
	Resolved      *ResolvedData `json:"resolved,omitempty"`
}

// ModalSubmitData is the data of a modal submit: the modal's components
// (labels, action rows, text displays) with the values the user entered.
type ModalSubmitData struct {
	CustomID   string        `json:"custom_id"`
	Components []Component   `json:"components"`
	Resolved   *ResolvedData `json:"resolved,omitempty"` // users, roles, channels, attachments behind Values
}

// Component returns the submitted interactive component customID, looking
// inside action rows, labels and other layouts; nil when there is none.
func (d *ModalSubmitData) Component(customID string) *Component {
	return findComponent(d.Components, customID, 0)
}

// Value returns the submitted text of the text input customID, or the
// option chosen in the radio group customID ("" when none); ok is false
// when there is no such component.
func (d *ModalSubmitData) Value(customID string) (value string, ok bool) {
	if c := d.Component(customID); c != nil {
		return c.Value, true
	}
	return "", false
}

// Checked returns the state of the checkbox customID; ok is false when
// there is no such component.
func (d *ModalSubmitData) Checked(customID string) (checked, ok bool) {
	if c := d.Component(customID); c != nil {
		return c.Checked, true
	}
	return false, false
}

// Values returns what the select, checkbox group or file upload customID
// submitted (IDs for user, role, mentionable and channel selects and for
// file uploads: look them up in Resolved); ok is false when there is no
// such component.
func (d *ModalSubmitData) Values(customID string) (values []string, ok bool) {
	if c := d.Component(customID); c != nil {
		return c.Values, true
	}
	return nil, false
}

// findComponent searches a component tree; depth is bounded because
// Discord nests at most a few levels and a hostile payload could nest more.
func findComponent(cs []Component, customID string, depth int) *Component {
	for i := range cs {
		if found := findIn(&cs[i], customID, depth); found != nil {
			return found
		}
	}
	return nil
}

func findIn(c *Component, customID string, depth int) *Component {
	if c == nil || depth > 8 {
		return nil
	}
	if c.CustomID == customID && c.Type.Known() && !c.Type.IsLayout() {
		return c
	}
	if found := findComponent(c.Components, customID, depth+1); found != nil {
		return found
	}
	if found := findIn(c.Component, customID, depth+1); found != nil {
		return found
	}
	return findIn(c.Accessory, customID, depth+1)
}
