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
	// ResponsePremiumRequired is deprecated by Discord in favour of a
	// premium button; kept so old responses still encode.
	ResponsePremiumRequired InteractionResponseType = 10
	ResponseLaunchActivity  InteractionResponseType = 12 // apps with Activities
)

// InteractionCallbackResponse is what the callback route returns with
// with_response=true: the interaction and the resource the response
// created.
type InteractionCallbackResponse struct {
	Interaction InteractionCallback          `json:"interaction"`
	Resource    *InteractionCallbackResource `json:"resource,omitempty"`
}

// InteractionCallback describes the interaction a response answered.
type InteractionCallback struct {
	ID                       Snowflake       `json:"id"`
	Type                     InteractionType `json:"type"`
	ActivityInstanceID       string          `json:"activity_instance_id,omitempty"`
	ResponseMessageID        Snowflake       `json:"response_message_id,omitempty"`
	ResponseMessageLoading   bool            `json:"response_message_loading,omitempty"`
	ResponseMessageEphemeral bool            `json:"response_message_ephemeral,omitempty"`
}

// InteractionCallbackResource is what a response created: the message
// (types 4 and 7) or the Activity instance (type 12).
type InteractionCallbackResource struct {
	Type             InteractionResponseType `json:"type"`
	ActivityInstance *ActivityInstance       `json:"activity_instance,omitempty"`
	Message          *Message                `json:"message,omitempty"`
}

// ActivityInstance identifies a launched or joined Activity.
type ActivityInstance struct {
	ID string `json:"id"`
}

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
