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
		s.callback(w, r)
	case Route("POST /webhooks/*/*")(r):
		s.message(w, r, seg[1], r.Query.Get("wait") == "true")
	case Route("PATCH /webhooks/*/*/messages/@original")(r):
		s.message(w, r, seg[1], true)
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

func (s *Server) callback(w http.ResponseWriter, r Request) {
	var resp discord.InteractionResponse
	if r.Decode(&resp) != nil || resp.Type < discord.ResponsePong || resp.Type > discord.ResponseModal ||
		resp.Type == 2 || resp.Type == 3 {
		writeError(w, http.StatusBadRequest, 50035, "Invalid Form Body")
		return
	}
	if resp.Data != nil && !filesMatch(resp.Data.Attachments, r.Files) {
		writeError(w, http.StatusBadRequest, 50035, "Invalid Form Body: attachments do not match files")
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// message answers the routes that create or edit a message with the
// message Discord would return.
func (s *Server) message(w http.ResponseWriter, r Request, webhookID string, wait bool) {
	var p discord.MessageParams
	if r.Decode(&p) != nil || !filesMatch(p.Attachments, r.Files) {
		writeError(w, http.StatusBadRequest, 50035, "Invalid Form Body")
		return
	}
	if !wait {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	m := discord.Message{
		ID: s.newID(), Content: p.Content, Embeds: p.Embeds, Components: p.Components, Flags: p.Flags,
		Author:   discord.User{ID: s.opts.Application.ID, Username: s.opts.Application.Name, Bot: true},
		Mentions: []discord.User{}, MentionRoles: []discord.Snowflake{}, Attachments: []discord.Attachment{},
	}
	if id, err := discord.ParseSnowflake(webhookID); err == nil {
		m.WebhookID = id
	}
	if strings.HasPrefix(r.Path, "/channels/") {
		m.ChannelID, _ = discord.ParseSnowflake(strings.Split(strings.Trim(r.Path, "/"), "/")[1])
	}
	for i, f := range r.Files {
		id := s.newID()
		m.Attachments = append(m.Attachments, discord.Attachment{
			ID: id, Filename: f.Name, Size: len(f.Data), ContentType: f.ContentType,
			URL: "https://cdn.discordapp.com/attachments/" + strconv.Itoa(i) + "/" + id.String() + "/" + f.Name,
		})
	}
	writeJSON(w, http.StatusOK, m)
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
