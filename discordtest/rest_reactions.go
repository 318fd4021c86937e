package discordtest

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The routes of reactions. Each runs with s.mu held.

// parseEmoji reads a route's emoji: a Unicode emoji, or "name:id" for a
// custom one. Anything else is Discord's 10014 Unknown Emoji.
func parseEmoji(s string) (object, bool) {
	if name, id, ok := strings.Cut(s, ":"); ok {
		if _, err := strconv.ParseUint(id, 10, 64); err != nil || name == "" {
			return nil, false
		}
		return object{"id": id, "name": name}, true
	}
	if s == "" || !utf8.ValidString(s) {
		return nil, false
	}
	for _, r := range s {
		if r < 0x80 {
			return nil, false // a word, not an emoji
		}
	}
	return object{"id": nil, "name": s}, true
}

// reaction returns the path's message and emoji, or answers the error.
func (s *Server) reaction(c *call) (*wChannel, *wMessage, string, object) {
	ch, m := s.message(c)
	if m == nil {
		return nil, nil, "", nil
	}
	key := c.param("emoji")
	emoji, ok := parseEmoji(key)
	if !ok {
		c.fail(errUnknownEmoji)
		return nil, nil, "", nil
	}
	return ch, m, key, emoji
}

// reactionEvent is the data of MESSAGE_REACTION_ADD and _REMOVE.
func (s *Server) reactionEvent(ch *wChannel, m *wMessage, user uint64, emoji object, add bool) object {
	ev := object{
		"user_id": idString(user), "channel_id": idString(ch.id), "message_id": m.obj["id"],
		"emoji": emoji, "burst": false, "type": 0,
	}
	if ch.guild != 0 {
		ev["guild_id"] = idString(ch.guild)
	}
	if add {
		ev["burst_colors"] = []any{}
		if author, _ := m.obj["author"].(object); author != nil {
			ev["message_author_id"] = author["id"]
		}
		if ch.guild != 0 {
			ev["member"] = s.world.guilds[ch.guild].members[user]
		}
	}
	return ev
}

func (s *Server) addReaction(c *call) {
	ch, m, key, emoji := s.reaction(c)
	if m == nil {
		return
	}
	i := slices.IndexFunc(m.reactions, func(r *wReaction) bool { return r.key == key })
	if i < 0 {
		m.reactions = append(m.reactions, &wReaction{key: key, emoji: emoji})
		i = len(m.reactions) - 1
	}
	r := m.reactions[i]
	bot := s.world.botID
	if !slices.Contains(r.users, bot) {
		r.users = append(r.users, bot)
		c.emit(ch.guild, "MESSAGE_REACTION_ADD", s.reactionEvent(ch, m, bot, emoji, true))
	}
	c.noContent()
}

func (s *Server) removeReaction(c *call) {
	ch, m, key, emoji := s.reaction(c)
	if m == nil {
		return
	}
	user := s.world.botID
	if c.p["user"] != "" {
		id, ok := c.id("user")
		if !ok {
			c.fail(errUnknownUser)
			return
		}
		user = id
	}
	for i, r := range m.reactions {
		if r.key != key || !slices.Contains(r.users, user) {
			continue
		}
		r.users = slices.DeleteFunc(r.users, func(u uint64) bool { return u == user })
		if len(r.users) == 0 {
			m.reactions = slices.Delete(m.reactions, i, i+1)
		}
		c.emit(ch.guild, "MESSAGE_REACTION_REMOVE", s.reactionEvent(ch, m, user, emoji, false))
		break
	}
	c.noContent()
}

// listReactions answers Get Reactions: the users who reacted, limit 1-100
// (default 25), after a user id.
func (s *Server) listReactions(c *call) {
	_, m, key, _ := s.reaction(c)
	if m == nil {
		return
	}
	limit := 25
	if v := c.r.Query.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			writeFormError(c.w, formError{"limit", "NUMBER_TYPE_MAX", "int value should be less than or equal to 100."})
			return
		}
		limit = n
	}
	after, _ := strconv.ParseUint(c.r.Query.Get("after"), 10, 64)
	out := []any{}
	for _, r := range m.reactions {
		if r.key != key {
			continue
		}
		ids := slices.Sorted(slices.Values(r.users))
		for _, id := range ids {
			if id > after && len(out) < limit {
				out = append(out, s.world.user(id))
			}
		}
	}
	c.json(http.StatusOK, out)
}
