package discord

import (
	"bytes"
	"encoding/json"
)

// ComponentType says what a Component is.
type ComponentType int

// Component types this package maps to fields. Other types (the layout
// components of "components v2" such as sections and containers) decode
// into a Component whose Raw keeps the original JSON, so a message read
// and sent back is unchanged.
const (
	ComponentActionRow         ComponentType = 1
	ComponentButton            ComponentType = 2
	ComponentStringSelect      ComponentType = 3
	ComponentTextInput         ComponentType = 4
	ComponentUserSelect        ComponentType = 5
	ComponentRoleSelect        ComponentType = 6
	ComponentMentionableSelect ComponentType = 7
	ComponentChannelSelect     ComponentType = 8
	ComponentTextDisplay       ComponentType = 10
	ComponentLabel             ComponentType = 18
)

// Known reports whether the type's fields are mapped by Component.
func (t ComponentType) Known() bool {
	return (t >= ComponentActionRow && t <= ComponentChannelSelect) || t == ComponentTextDisplay || t == ComponentLabel
}

// IsSelect reports whether the type is one of the select menus.
func (t ComponentType) IsSelect() bool {
	return t == ComponentStringSelect || (t >= ComponentUserSelect && t <= ComponentChannelSelect)
}

// ButtonStyle is a button's look; ButtonLink opens URL and ButtonPremium
// buys SKUID, neither sends an interaction.
type ButtonStyle int

// Button styles.
const (
	ButtonPrimary   ButtonStyle = 1
	ButtonSecondary ButtonStyle = 2
	ButtonSuccess   ButtonStyle = 3
	ButtonDanger    ButtonStyle = 4
	ButtonLink      ButtonStyle = 5
	ButtonPremium   ButtonStyle = 6
)

// TextInputStyle is 1 for one line, 2 for a paragraph.
type TextInputStyle = int

// Component is one message or modal component: an action row holding
// others, a button, a select menu, a text input, a text display or a
// label. It is one flat struct rather than an interface per type so that
// any JSON library decodes it and a switch on Type reads naturally; the
// fields that do not apply to a type stay zero.
//
// A component of a type that is not Known keeps its JSON in Raw, and
// MarshalJSON writes Raw back verbatim (edits to its other fields are then
// ignored; set Raw to nil to send the fields instead).
type Component struct {
	Type ComponentType `json:"type"`
	ID   int           `json:"id,omitempty"` // optional numeric identifier within the message

	// Action rows hold Components; a label holds one Component.
	Components []Component `json:"components,omitempty"`
	Component  *Component  `json:"component,omitempty"`

	CustomID string    `json:"custom_id,omitempty"`
	Style    int       `json:"style,omitempty"` // ButtonStyle or TextInputStyle
	Label    string    `json:"label,omitempty"`
	Emoji    *Emoji    `json:"emoji,omitempty"`
	URL      string    `json:"url,omitempty"`
	SKUID    Snowflake `json:"sku_id,omitempty"`
	Disabled bool      `json:"disabled,omitempty"`

	// Selects.
	Options       []SelectOption       `json:"options,omitempty"`
	ChannelTypes  []ChannelType        `json:"channel_types,omitempty"`
	Placeholder   string               `json:"placeholder,omitempty"`
	DefaultValues []SelectDefaultValue `json:"default_values,omitempty"`
	MinValues     *int                 `json:"min_values,omitempty"`
	MaxValues     int                  `json:"max_values,omitempty"`
	// Values are the chosen values in a modal submit.
	Values []string `json:"values,omitempty"`

	// Text inputs (Value is also what a modal submit carries back).
	MinLength *int   `json:"min_length,omitempty"`
	MaxLength int    `json:"max_length,omitempty"`
	Required  *bool  `json:"required,omitempty"`
	Value     string `json:"value,omitempty"`

	// Text displays and labels.
	Content     string `json:"content,omitempty"`
	Description string `json:"description,omitempty"`

	// Raw is the original JSON of a component whose Type is not Known.
	Raw json.RawMessage `json:"-"`
}

// SelectOption is one choice of a string select.
type SelectOption struct {
	Label       string `json:"label"`
	Value       string `json:"value"`
	Description string `json:"description,omitempty"`
	Emoji       *Emoji `json:"emoji,omitempty"`
	Default     bool   `json:"default,omitempty"`
}

// SelectDefaultValue preselects a user, role or channel in an auto-
// populated select; Type is "user", "role" or "channel".
type SelectDefaultValue struct {
	ID   Snowflake `json:"id"`
	Type string    `json:"type"`
}

// plainComponent has Component's fields without its methods, so the
// methods can use the standard encoding without recursing.
type plainComponent Component

// UnmarshalJSON decodes c and, when its type is not Known, keeps a copy of
// the JSON in Raw.
func (c *Component) UnmarshalJSON(b []byte) error {
	if bytes.Equal(b, []byte("null")) {
		return nil
	}
	var p plainComponent
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	*c = Component(p)
	if !c.Type.Known() {
		c.Raw = append(json.RawMessage(nil), b...)
	}
	return nil
}

// MarshalJSON writes Raw for a component of an unknown type that has it,
// and the fields otherwise.
func (c Component) MarshalJSON() ([]byte, error) {
	if !c.Type.Known() && len(c.Raw) > 0 {
		return c.Raw, nil
	}
	return json.Marshal(plainComponent(c))
}

// ActionRow returns an action row holding components (at most 5 buttons,
// or one select).
func ActionRow(components ...Component) Component {
	return Component{Type: ComponentActionRow, Components: components}
}

// Button returns an interactive button.
func Button(style ButtonStyle, label, customID string) Component {
	return Component{Type: ComponentButton, Style: int(style), Label: label, CustomID: customID}
}

// LinkButton returns a button that opens url.
func LinkButton(label, url string) Component {
	return Component{Type: ComponentButton, Style: int(ButtonLink), Label: label, URL: url}
}

// StringSelect returns a select menu offering options.
func StringSelect(customID, placeholder string, options ...SelectOption) Component {
	return Component{Type: ComponentStringSelect, CustomID: customID, Placeholder: placeholder, Options: options}
}

// TextInput returns a modal text input; style is 1 (short) or 2 (paragraph).
func TextInput(customID, label string, style TextInputStyle) Component {
	return Component{Type: ComponentTextInput, CustomID: customID, Label: label, Style: style}
}
