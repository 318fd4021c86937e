package discordtest

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/ipcord/ipcord/discord"
)

const apiRoot = "/api/v10"

// serve records every request, then applies faults and rate limits, then
// answers the route as Discord would.
func (s *Server) serve(w http.ResponseWriter, hr *http.Request) {
	if h := s.mounted(hr.URL.Path); h != nil {
		h.ServeHTTP(w, hr)
		return
	}
	path, ok := strings.CutPrefix(hr.URL.EscapedPath(), apiRoot)
	if !ok {
		writeError(w, http.StatusNotFound, 0, "404: Not Found")
		return
	}
	r, err := readRequest(hr, path, s.opts.MaxBody)
	s.record(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, 50109, err.Error())
		return
	}
	if f := s.takeFault(r); f != nil {
		writeFault(w, f)
		return
	}
	if !s.checkLimit(w, r) {
		return
	}
	seg := strings.Split(strings.Trim(path, "/"), "/")
	switch {
	case Route("POST /interactions/*/*/callback")(r):
		s.callback(w, r, seg[1], seg[2])
	case Route("POST /webhooks/*/*")(r):
		s.followup(w, r, seg[1], seg[2], r.Query.Get("wait") == "true")
	case Route("GET /webhooks/*/*/messages/*")(r), Route("PATCH /webhooks/*/*/messages/*")(r),
		Route("DELETE /webhooks/*/*/messages/*")(r):
		s.webhookMessage(w, r, seg[1], seg[2], seg[4])
	case strings.HasPrefix(path, "/applications/") && strings.Contains(path, "/commands"):
		if s.authorized(w, r) {
			s.commands(w, r, seg)
		}
	case Route("POST /channels/*/messages")(r):
		if s.authorized(w, r) {
			s.message(w, r, "", true)
		}
	case Route("GET /gateway/bot")(r):
		if s.authorized(w, r) {
			writeJSON(w, http.StatusOK, s.GatewayBot())
		}
	case Route("GET /applications/@me")(r):
		if s.authorized(w, r) {
			writeJSON(w, http.StatusOK, s.opts.Application)
		}
	default:
		writeError(w, http.StatusNotFound, 0, "404: Not Found")
	}
}

func (s *Server) authorized(w http.ResponseWriter, r Request) bool {
	if s.opts.Token != "" && r.Header.Get("Authorization") != "Bot "+s.opts.Token {
		writeError(w, http.StatusUnauthorized, 0, "401: Unauthorized")
		return false
	}
	return true
}

func (s *Server) callback(w http.ResponseWriter, r Request, id, token string) {
	var resp discord.InteractionResponse
	if r.Decode(&resp) != nil || !knownResponse(resp.Type) {
		writeError(w, http.StatusBadRequest, 50035, "Invalid Form Body")
		return
	}
	if resp.Data != nil && !filesMatch(resp.Data.Attachments, r.Files) {
		writeError(w, http.StatusBadRequest, 50035, "Invalid Form Body: attachments do not match files")
		return
	}
	token = unescape(token)
	var created *discord.Message
	switch resp.Type {
	case discord.ResponseMessage, discord.ResponseDeferredMessage, discord.ResponseUpdateMessage, discord.ResponseDeferredUpdate:
		var p discord.MessageParams
		if resp.Data != nil {
			p = resp.Data.MessageParams
		}
		m := s.newMessage(p, r.Files, s.opts.Application.ID.String(), "")
		if resp.Type == discord.ResponseDeferredMessage {
			m.Flags |= discord.MessageFlagLoading
		}
		s.mu.Lock()
		s.tokens(token).original = &m
		s.mu.Unlock()
		created = &m
	}
	if r.Query.Get("with_response") != "true" {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	sid, _ := discord.ParseSnowflake(id)
	out := discord.InteractionCallbackResponse{Interaction: discord.InteractionCallback{ID: sid}}
	out.Resource = &discord.InteractionCallbackResource{Type: resp.Type}
	if created != nil {
		out.Interaction.ResponseMessageID = created.ID
		out.Interaction.ResponseMessageLoading = created.Flags&discord.MessageFlagLoading != 0
		out.Interaction.ResponseMessageEphemeral = created.Flags&discord.MessageFlagEphemeral != 0
		if resp.Type == discord.ResponseMessage || resp.Type == discord.ResponseUpdateMessage {
			out.Resource.Message = created
		}
	}
	if resp.Type == discord.ResponseLaunchActivity {
		out.Interaction.ActivityInstanceID = "i-" + s.newID().String()
		out.Resource.ActivityInstance = &discord.ActivityInstance{ID: out.Interaction.ActivityInstanceID}
	}
	writeJSON(w, http.StatusOK, out)
}

// knownResponse reports whether t is an interaction callback type Discord
// documents.
func knownResponse(t discord.InteractionResponseType) bool {
	switch t {
	case discord.ResponsePong, discord.ResponseMessage, discord.ResponseDeferredMessage, discord.ResponseDeferredUpdate,
		discord.ResponseUpdateMessage, discord.ResponseAutocompleteResult, discord.ResponseModal,
		discord.ResponsePremiumRequired, discord.ResponseLaunchActivity:
		return true
	}
	return false
}

// followup answers POST /webhooks/{app}/{token}, storing the message for
// the token's other routes.
func (s *Server) followup(w http.ResponseWriter, r Request, appID, token string, wait bool) {
	m, ok := s.decodeMessage(w, r, appID)
	if !ok {
		return
	}
	s.mu.Lock()
	s.tokens(unescape(token)).followups[m.ID] = &m
	s.mu.Unlock()
	if !wait {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	writeJSON(w, http.StatusOK, m)
}

// message answers POST /channels/{id}/messages with the message Discord
// would return.
func (s *Server) message(w http.ResponseWriter, r Request, webhookID string, wait bool) {
	m, ok := s.decodeMessage(w, r, webhookID)
	if !ok {
		return
	}
	if !wait {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	writeJSON(w, http.StatusOK, m)
}

// decodeMessage reads a message body (JSON or multipart) into the message
// Discord would make of it, or answers 400.
func (s *Server) decodeMessage(w http.ResponseWriter, r Request, webhookID string) (discord.Message, bool) {
	var p discord.MessageParams
	if r.Decode(&p) != nil || !filesMatch(p.Attachments, r.Files) {
		writeError(w, http.StatusBadRequest, 50035, "Invalid Form Body")
		return discord.Message{}, false
	}
	channel := ""
	if strings.HasPrefix(r.Path, "/channels/") {
		channel = strings.Split(strings.Trim(r.Path, "/"), "/")[1]
	}
	return s.newMessage(p, r.Files, webhookID, channel), true
}

func (s *Server) newMessage(p discord.MessageParams, files []ReceivedFile, webhookID, channel string) discord.Message {
	m := discord.Message{
		ID: s.newID(), Content: p.Content, Embeds: p.Embeds, Components: p.Components, Flags: p.Flags,
		Author:   discord.User{ID: s.opts.Application.ID, Username: s.opts.Application.Name, Bot: true},
		Mentions: []discord.User{}, MentionRoles: []discord.Snowflake{}, Attachments: []discord.Attachment{},
	}
	if id, err := discord.ParseSnowflake(webhookID); err == nil {
		m.WebhookID = id
	}
	if channel != "" {
		m.ChannelID, _ = discord.ParseSnowflake(channel)
	}
	for i, f := range files {
		id := s.newID()
		m.Attachments = append(m.Attachments, discord.Attachment{
			ID: id, Filename: f.Name, Size: len(f.Data), ContentType: f.ContentType,
			URL: "https://cdn.discordapp.com/attachments/" + strconv.Itoa(i) + "/" + id.String() + "/" + f.Name,
		})
	}
	return m
}

// filesMatch checks that every new attachment (one with a small ID,
// meaning a part index) names a file part that was sent, as Discord does.
func filesMatch(atts []discord.Attachment, files []ReceivedFile) bool {
	have := map[string]bool{}
	for _, f := range files {
		have[f.Field] = true
	}
	for _, a := range atts {
		if uint64(a.ID) < 1<<20 && !have["files["+a.ID.String()+"]"] {
			return false
		}
	}
	return true
}
