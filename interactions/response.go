package interactions

import (
	"github.com/ipcord/ipcord/discord"
	"github.com/ipcord/ipcord/rest"
)

// Response is a listener's answer to an interaction: a type, its data, and
// files to upload with a message. Build one with Reply, Update, DeferReply,
// DeferUpdate, Choices or Modal and refine it with the With methods.
type Response struct {
	Type  discord.InteractionResponseType
	Data  discord.InteractionResponseData
	Files []rest.File
}

// Reply answers with a new message (type 4).
func Reply(content string) *Response {
	return &Response{Type: discord.ResponseMessage, Data: discord.InteractionResponseData{MessageParams: discord.MessageParams{Content: content}}}
}

// Update edits the message a component belongs to (type 7).
func Update(content string) *Response {
	return &Response{Type: discord.ResponseUpdateMessage, Data: discord.InteractionResponseData{MessageParams: discord.MessageParams{Content: content}}}
}

// DeferReply acknowledges now and shows "thinking" (type 5); the message
// comes later through Event.EditOriginal.
func DeferReply(ephemeral bool) *Response {
	r := &Response{Type: discord.ResponseDeferredMessage}
	if ephemeral {
		r.Data.Flags = discord.MessageFlagEphemeral
	}
	return r
}

// DeferUpdate acknowledges a component without changing its message yet
// (type 6).
func DeferUpdate() *Response { return &Response{Type: discord.ResponseDeferredUpdate} }

// Choices answers an autocomplete (type 8); no choices is a valid answer.
func Choices(choices ...discord.CommandOptionChoice) *Response {
	if choices == nil {
		choices = []discord.CommandOptionChoice{}
	}
	return &Response{Type: discord.ResponseAutocompleteResult, Data: discord.InteractionResponseData{Choices: choices}}
}

// Modal opens a form (type 9) whose rows hold text inputs (or labels).
func Modal(customID, title string, rows ...discord.Component) *Response {
	return &Response{Type: discord.ResponseModal, Data: discord.InteractionResponseData{
		CustomID: customID, Title: title, MessageParams: discord.MessageParams{Components: rows}}}
}

// LaunchActivity launches the app's Activity (type 12; apps with
// Activities only).
func LaunchActivity() *Response { return &Response{Type: discord.ResponseLaunchActivity} }

// Ephemeral makes the message visible only to the user who triggered the
// interaction. Ephemerality is fixed by the first response: it cannot be
// changed by a later edit.
func (r *Response) Ephemeral() *Response {
	r.Data.Flags |= discord.MessageFlagEphemeral
	return r
}

// WithEmbeds adds embeds to the message.
func (r *Response) WithEmbeds(embeds ...discord.Embed) *Response {
	r.Data.Embeds = append(r.Data.Embeds, embeds...)
	return r
}

// WithComponents adds component rows to the message.
func (r *Response) WithComponents(rows ...discord.Component) *Response {
	r.Data.Components = append(r.Data.Components, rows...)
	return r
}

// WithFiles attaches files to the message.
func (r *Response) WithFiles(files ...rest.File) *Response {
	r.Files = append(r.Files, files...)
	return r
}

// WithAllowedMentions limits who the message may ping; the zero
// AllowedMentions pings nobody.
func (r *Response) WithAllowedMentions(m discord.AllowedMentions) *Response {
	r.Data.AllowedMentions = &m
	return r
}

// isMessage reports whether the response carries a message (4 or 7).
func (r *Response) isMessage() bool {
	return r.Type == discord.ResponseMessage || r.Type == discord.ResponseUpdateMessage
}

// payload returns the JSON response with attachments filled for its files.
func (r *Response) payload() *discord.InteractionResponse {
	out := &discord.InteractionResponse{Type: r.Type}
	switch r.Type {
	case discord.ResponsePong, discord.ResponseDeferredUpdate, discord.ResponseLaunchActivity, discord.ResponsePremiumRequired:
		return out
	case discord.ResponseDeferredMessage:
		if r.Data.Flags != 0 {
			out.Data = &discord.InteractionResponseData{MessageParams: discord.MessageParams{Flags: r.Data.Flags}}
		}
		return out
	}
	d := r.Data
	d.MessageParams = rest.WithFiles(d.MessageParams, r.Files)
	out.Data = &d
	return out
}
