package discord

// InteractionResponseType says how an interaction is answered.
type InteractionResponseType int

// Interaction response types.
const (
	ResponsePong               InteractionResponseType = 1
	ResponseMessage            InteractionResponseType = 4 // CHANNEL_MESSAGE_WITH_SOURCE
	ResponseDeferredMessage    InteractionResponseType = 5
	ResponseDeferredUpdate     InteractionResponseType = 6 // components only
	ResponseUpdateMessage      InteractionResponseType = 7 // components only
	ResponseAutocompleteResult InteractionResponseType = 8
	ResponseModal              InteractionResponseType = 9
)

// InteractionResponse is the answer to an interaction, in the HTTP reply or
// POSTed to the callback route.
type InteractionResponse struct {
	Type InteractionResponseType  `json:"type"`
	Data *InteractionResponseData `json:"data,omitempty"`
}

// InteractionResponseData is the data of a response: message fields for
// types 4 and 7 (and flags for 5), Choices for 8, CustomID, Title and
// Components for 9.
type InteractionResponseData struct {
	MessageParams
	Choices  []CommandOptionChoice `json:"choices,omitzero"`
	CustomID string                `json:"custom_id,omitempty"`
	Title    string                `json:"title,omitempty"`
}

// CommandOptionChoice is one autocomplete choice; Value is a string,
// an integer or a float matching the option's type.
type CommandOptionChoice struct {
	Name  string `json:"name"`
	Value any    `json:"value"`
}

// Application is a Discord application (GET /applications/@me). VerifyKey
// is the hex Ed25519 public key that signs its interactions.
type Application struct {
	ID                      Snowflake `json:"id"`
	Name                    string    `json:"name"`
	Icon                    *string   `json:"icon,omitempty"`
	Description             string    `json:"description"`
	BotPublic               bool      `json:"bot_public"`
	BotRequireCodeGrant     bool      `json:"bot_require_code_grant"`
	Bot                     *User     `json:"bot,omitempty"`
	Owner                   *User     `json:"owner,omitempty"`
	VerifyKey               string    `json:"verify_key"`
	Flags                   int       `json:"flags,omitempty"`
	ApproximateGuildCount   int       `json:"approximate_guild_count,omitempty"`
	InteractionsEndpointURL *string   `json:"interactions_endpoint_url,omitempty"`
}
