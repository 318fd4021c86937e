package discordtest

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/ipcord/ipcord/discord"
)

// tokenMessages are the messages an interaction token has made: the first
// response (@original) and the follow-ups, so they can be fetched, edited
// and deleted as on Discord.
type tokenMessages struct {
	original  *discord.Message
	followups map[discord.Snowflake]*discord.Message
}

// tokens returns the store for token, creating it; s.mu must be held.
func (s *Server) tokens(token string) *tokenMessages {
	if s.byToken == nil {
		s.byToken = map[string]*tokenMessages{}
	}
	tm := s.byToken[token]
	if tm == nil {
		tm = &tokenMessages{followups: map[discord.Snowflake]*discord.Message{}}
		s.byToken[token] = tm
	}
	return tm
}

// Original returns the first response an interaction token has made (or
// that an edit of @original created), as Discord would return it, and
// whether there is one.
func (s *Server) Original(token string) (discord.Message, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if tm := s.byToken[token]; tm != nil && tm.original != nil {
		return *tm.original, true
	}
	return discord.Message{}, false
}

// Followups returns the follow-up messages an interaction token has sent
// and not deleted, in no particular order.
func (s *Server) Followups(token string) []discord.Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []discord.Message
	if tm := s.byToken[token]; tm != nil {
		for _, m := range tm.followups {
			out = append(out, *m)
		}
	}
	return out
}

// webhookMessage serves GET, PATCH and DELETE of
// /webhooks/{app}/{token}/messages/{@original|id}. PATCH of @original
// creates it when the first response went in an HTTP reply the fake never
// saw; every other unknown message is 404 Unknown Message.
func (s *Server) webhookMessage(w http.ResponseWriter, r Request, appID, token, id string) {
	token = unescape(token)
	var edit *discord.Message
	if r.Method == http.MethodPatch {
		m, ok := s.decodeMessage(w, r, appID)
		if !ok {
			return
		}
		edit = &m
	}
	s.mu.Lock()
	tm := s.tokens(token)
	var m *discord.Message
	var fid discord.Snowflake
	if id == "@original" {
		m = tm.original
		if m == nil && edit != nil {
			tm.original = edit
			m = edit
		}
	} else if sf, err := discord.ParseSnowflake(id); err == nil {
		fid, m = sf, tm.followups[sf]
	}
	if m == nil {
		s.mu.Unlock()
		writeError(w, http.StatusNotFound, 10008, "Unknown Message")
		return
	}
	switch r.Method {
	case http.MethodDelete:
		if id == "@original" {
			tm.original = nil
		} else {
			delete(tm.followups, fid)
		}
		s.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
		return
	case http.MethodPatch:
		if m != edit {
			applyEdit(m, edit, r)
		}
	}
	out := *m
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}

// applyEdit changes m as a PATCH with body e does: the fields sent replace
// the old ones, files are added.
func applyEdit(m, e *discord.Message, r Request) {
	var sent map[string]any
	r.Decode(&sent)
	if _, ok := sent["content"]; ok {
		m.Content = e.Content
	}
	if _, ok := sent["embeds"]; ok {
		m.Embeds = e.Embeds
	}
	if _, ok := sent["components"]; ok {
		m.Components = e.Components
	}
	if _, ok := sent["flags"]; ok {
		m.Flags = e.Flags&^discord.MessageFlagEphemeral | m.Flags&discord.MessageFlagEphemeral
	}
	m.Attachments = append(m.Attachments, e.Attachments...)
	m.Flags &^= discord.MessageFlagLoading
}

// unescape undoes the path escaping of a token.
func unescape(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	out, err := url.PathUnescape(s)
	if err != nil {
		return s
	}
	return out
}
