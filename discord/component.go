package discord

import (
	"bytes"
	"encoding/json"
)

// ComponentType says what a Component is.
type ComponentType int

// Component types (developers/components/reference). A type this package
// does not know decodes into a Component whose Raw keeps the original
// JSON, so a message read and sent back is unchanged and a new type never
// fails a request.
const (
	ComponentActionRow         ComponentType = 1
	ComponentButton            ComponentType = 2
	ComponentStringSelect      ComponentType = 3
	ComponentTextInput         ComponentType = 4
	ComponentUserSelect        ComponentType = 5
	ComponentRoleSelect        ComponentType = 6
	ComponentMentionableSelect ComponentType = 7
	ComponentChannelSelect     ComponentType = 8
	ComponentSection           ComponentType = 9
	ComponentTextDisplay       ComponentType = 10
	ComponentThumbnail         ComponentType = 11
	ComponentMediaGallery      ComponentType = 12
	ComponentFile              ComponentType = 13
	ComponentSeparator         ComponentType = 14
	ComponentContainer         ComponentType = 17
	ComponentLabel             ComponentType = 18
	ComponentFileUpload        ComponentType = 19
	ComponentRadioGroup        ComponentType = 21
	ComponentCheckboxGroup     ComponentType = 22
	ComponentCheckbox          ComponentType = 23
)

// Known reports whether the type's fields are mapped by Component.
func (t ComponentType) Known() bool {
	switch {
	case t >= ComponentActionRow && t <= ComponentSeparator,
		t >= ComponentContainer && t <= ComponentFileUpload,
		t >= ComponentRadioGroup && t <= ComponentCheckbox:
		return true
	}
	return false
}

// IsSelect reports whether the type is one of the select menus.
func (t ComponentType) IsSelect() bool {
	return t == ComponentStringSelect || (t >= ComponentUserSelect && t <= ComponentChannelSelect)
}

// IsLayout reports whether the type only holds other components (action
// row, section, container, label).
func (t ComponentType) IsLayout() bool {
	return t == ComponentActionRow || t == ComponentSection || t == ComponentContainer || t == ComponentLabel
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

// Component is one message or modal component of any type, as sent and as
// received in an interaction. It is one flat struct rather than an
// interface per type so that any JSON library decodes it and a switch on
// Type reads naturally; the fields that do not apply to a type stay zero.
//
// Submitted values keep their documented JSON types: a text input's or a
// radio group's "value" is a string (Value), a checkbox's is a boolean
// (Checked); selects, checkbox groups and file uploads carry Values.
//
// A component of a type that is not Known keeps its JSON in Raw, and
// MarshalJSON writes Raw back verbatim (edits to its other fields are then
// ignored; set Raw to nil to send the fields instead).
type Component struct {
	Type ComponentType `json:"type"`
	ID   int           `json:"id,omitempty"` // optional numeric identifier within the message

	// Action rows, sections and containers hold Components; a label holds
	// one Component; a section has an Accessory (button or thumbnail).
	Components []Component `json:"components,omitempty"`
	Component  *Component  `json:"component,omitempty"`
	Accessory  *Component  `json:"accessory,omitempty"`

	CustomID string    `json:"custom_id,omitempty"`
	Style    int       `json:"style,omitempty"` // ButtonStyle or TextInputStyle
	Label    string    `json:"label,omitempty"`
	Emoji    *Emoji    `json:"emoji,omitempty"`
	URL      string    `json:"url,omitempty"`
	SKUID    Snowflake `json:"sku_id,omitempty"`
	Disabled bool      `json:"disabled,omitempty"`

	// Selects, radio groups and checkbox groups offer Options.
	Options       []SelectOption       `json:"options,omitempty"`
	ChannelTypes  []ChannelType        `json:"channel_types,omitempty"`
	Placeholder   string               `json:"placeholder,omitempty"`
	DefaultValues []SelectDefaultValue `json:"default_values,omitempty"`
	MinValues     *int                 `json:"min_values,omitempty"`
	MaxValues     int                  `json:"max_values,omitempty"`
	// Values are what a select, checkbox group or file upload (attachment
	// IDs, see the resolved data) submitted.
	Values []string `json:"values,omitempty"`
	// FileTypes filters a file upload: "image", "video", "audio" or ".ext".
	FileTypes []string `json:"file_types,omitempty"`

	// Text inputs: Value is the text submitted (or prefilled). A radio
	// group's submitted Value is the chosen option ("" for none).
	MinLength *int   `json:"min_length,omitempty"`
	MaxLength int    `json:"max_length,omitempty"`
	Required  *bool  `json:"required,omitempty"`
	Value     string `json:"-"`
	// Checked is a checkbox's submitted state; Default its initial one.
	Checked bool `json:"-"`
	Default bool `json:"default,omitempty"`

	// Text displays have Content; labels Label and Description; thumbnails
	// and media gallery items a Description (alt text).
	Content     string `json:"content,omitempty"`
	Description string `json:"description,omitempty"`

	// Content components: a thumbnail's Media, a gallery's Items, a file
	// component's File (with the Name and Size Discord fills in).
	Media   *UnfurledMedia     `json:"media,omitempty"`
	Items   []MediaGalleryItem `json:"items,omitempty"`
	File    *UnfurledMedia     `json:"file,omitempty"`
	Name    string             `json:"name,omitempty"`
	Size    int                `json:"size,omitempty"`
	Spoiler bool               `json:"spoiler,omitempty"`

	// Separators and containers.
	Divider     *bool `json:"divider,omitempty"`
	Spacing     int   `json:"spacing,omitempty"`
	AccentColor *int  `json:"accent_color,omitempty"`

	// Raw is the original JSON of a component whose Type is not Known, or
	// whose value has a JSON type this package does not model.
	Raw json.RawMessage `json:"-"`
}

// SelectOption is one choice of a string select, a radio group or a
// checkbox group (which have no Emoji).
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

// UnfurledMedia is media shown by a component: only URL is set by an app
// (a link, or "attachment://<filename>"); Discord fills in the rest.
type UnfurledMedia struct {
	URL                string    `json:"url"`
	ProxyURL           string    `json:"proxy_url,omitempty"`
	Height             *int      `json:"height,omitempty"`
	Width              *int      `json:"width,omitempty"`
	Placeholder        string    `json:"placeholder,omitempty"`
	PlaceholderVersion int       `json:"placeholder_version,omitempty"`
	ContentType        string    `json:"content_type,omitempty"`
	Flags              int       `json:"flags,omitempty"`
	AttachmentID       Snowflake `json:"attachment_id,omitempty"`
}

// MediaGalleryItem is one picture or video of a media gallery.
type MediaGalleryItem struct {
	Media       UnfurledMedia `json:"media"`
	Description string        `json:"description,omitempty"`
	Spoiler     bool          `json:"spoiler,omitempty"`
}

// plainComponent has Component's fields without its methods, so the
// methods can use the standard encoding without recursing.
type plainComponent Component

// componentWire adds the "value" key, whose JSON type depends on the
// component type, to the plain fields.
type componentWire struct {
	*plainComponent
	Value json.RawMessage `json:"value,omitempty"`
}

// UnmarshalJSON decodes c, reading "value" as a string or a boolean
// (Checked) and, when its type is not Known, keeps a copy of the JSON in
// Raw.
func (c *Component) UnmarshalJSON(b []byte) error {
	if bytes.Equal(b, []byte("null")) {
		return nil
	}
	var p plainComponent
	w := componentWire{plainComponent: &p}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	keepRaw := !p.Type.Known()
	switch v := w.Value; {
	case len(v) == 0 || string(v) == "null":
	case v[0] == '"':
		if err := json.Unmarshal(v, &p.Value); err != nil {
			return err
		}
	case string(v) == "true":
		p.Checked = true
	case string(v) == "false":
	default:
		keepRaw = true // a future value shape: keep it rather than fail
	}
	*c = Component(p)
	if keepRaw {
		c.Raw = append(json.RawMessage(nil), b...)
	}
	return nil
}

// MarshalJSON writes Raw for a component of an unknown type that has it,
// and the fields otherwise: Value as "value" (a string), or Checked for a
// checkbox (a boolean, when true).
func (c Component) MarshalJSON() ([]byte, error) {
	if !c.Type.Known() && len(c.Raw) > 0 {
		return c.Raw, nil
	}
	p := plainComponent(c)
	w := componentWire{plainComponent: &p}
	switch {
	case c.Type == ComponentCheckbox:
		if c.Checked {
			w.Value = json.RawMessage("true")
		}
	case c.Value != "":
		v, err := json.Marshal(c.Value)
		if err != nil {
			return nil, err
		}
		w.Value = v
	}
	return json.Marshal(w)
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

// TextInput returns a modal text input; style is 1 (short) or 2
// (paragraph). Put it in a Label (Discord deprecates the text input's own
// label).
func TextInput(customID, label string, style TextInputStyle) Component {
	return Component{Type: ComponentTextInput, CustomID: customID, Label: label, Style: style}
}

// Label returns a modal label wrapping one interactive component.
func Label(label, description string, c Component) Component {
	return Component{Type: ComponentLabel, Label: label, Description: description, Component: &c}
}

// TextDisplay returns markdown text for a message (components v2) or a
// modal.
func TextDisplay(content string) Component {
	return Component{Type: ComponentTextDisplay, Content: content}
}

// Checkbox returns a modal checkbox for a yes/no question.
func Checkbox(customID string, checked bool) Component {
	return Component{Type: ComponentCheckbox, CustomID: customID, Default: checked}
}
