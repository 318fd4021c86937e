package discordtest

import (
	"maps"
	"net/http"
	"slices"
	"strconv"
)

// The routes of users, the application, guilds, their channels, roles and
// members. Each runs with s.mu held (see serve).

func (s *Server) getMe(c *call) {
	me := maps.Clone(s.world.bot)
	me["verified"], me["mfa_enabled"], me["email"], me["locale"] = true, false, nil, "en-US"
	c.json(http.StatusOK, me)
}

func (s *Server) getUser(c *call) {
	id, ok := c.id("user")
	u := s.world.users[id]
	if !ok || u == nil {
		c.fail(errUnknownUser)
		return
	}
	c.json(http.StatusOK, u)
}

func (s *Server) getApplication(c *call) {
	a := s.opts.Application
	app := applicationObject(uint64(a.ID), a.Name, s.world.bot, userObject(ownerID, "owner", false))
	if a.VerifyKey != "" {
		app["verify_key"] = a.VerifyKey
	}
	if a.Description != "" {
		app["description"] = a.Description
	}
	c.json(http.StatusOK, app)
}

// ownerID is the application owner's user id.
const ownerID = 900000000000000001

// createDM answers Create DM: one DM channel per recipient, made on first
// use.
func (s *Server) createDM(c *call) {
	var body struct {
		RecipientID string `json:"recipient_id"`
	}
	if c.r.Decode(&body) != nil {
		writeFormError(c.w, formError{"recipient_id", "BASE_TYPE_REQUIRED", "This field is required"})
		return
	}
	uid, err := strconv.ParseUint(body.RecipientID, 10, 64)
	if err != nil {
		writeFormError(c.w, formError{"recipient_id", "NUMBER_TYPE_COERCE", "Value \"" + body.RecipientID + "\" is not snowflake."})
		return
	}
	w := s.world
	if cid, ok := w.dms[uid]; ok {
		c.json(http.StatusOK, w.channels[cid].obj)
		return
	}
	cid := s.newIDLocked()
	ch := &wChannel{id: cid, obj: dmChannelObject(cid, w.user(uid)), msgs: map[uint64]*wMessage{}}
	w.channels[cid] = ch
	w.dms[uid] = cid
	c.json(http.StatusOK, ch.obj)
}

func (s *Server) getChannel(c *call) {
	if ch := s.channel(c); ch != nil {
		c.json(http.StatusOK, ch.obj)
	}
}

// channel returns the path's channel, or answers 10003 Unknown Channel. A
// Server with no guilds at all models no world: it takes any channel id,
// so tests that only need a route's answer need no setup.
func (s *Server) channel(c *call) *wChannel {
	id, ok := c.id("channel")
	w := s.world
	ch := w.channels[id]
	if ok && ch == nil && len(w.guilds) == 0 {
		ch = &wChannel{id: id, obj: channelDefaults(id, 0, 0), msgs: map[uint64]*wMessage{}}
		delete(ch.obj, "guild_id")
		w.channels[id] = ch
	}
	if ch == nil {
		c.fail(errUnknownChannel)
	}
	return ch
}

// guild returns the path's guild, or answers 10004 Unknown Guild.
func (s *Server) guild(c *call) *wGuild {
	id, _ := c.id("guild")
	g := s.world.guilds[id]
	if g == nil {
		c.fail(errUnknownGuild)
	}
	return g
}

func (s *Server) getGuild(c *call) {
	g := s.guild(c)
	if g == nil {
		return
	}
	o := s.world.guildObject(g)
	if c.r.Query.Get("with_counts") == "true" {
		o["approximate_member_count"] = len(g.members)
		o["approximate_presence_count"] = 0
	}
	c.json(http.StatusOK, o)
}

func (s *Server) guildChannels(c *call) {
	g := s.guild(c)
	if g == nil {
		return
	}
	out := []any{}
	for _, id := range g.channels {
		out = append(out, s.world.channels[id].obj)
	}
	c.json(http.StatusOK, out)
}

func (s *Server) guildRoles(c *call) {
	if g := s.guild(c); g != nil {
		c.json(http.StatusOK, g.roles)
	}
}

// listMembers answers List Guild Members: limit 1-1000 (default 1), after
// a user id.
func (s *Server) listMembers(c *call) {
	g := s.guild(c)
	if g == nil {
		return
	}
	limit := 1
	if v := c.r.Query.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			writeFormError(c.w, formError{"limit", "NUMBER_TYPE_MAX", "int value should be less than or equal to 1000."})
			return
		}
		limit = n
	}
	after, _ := strconv.ParseUint(c.r.Query.Get("after"), 10, 64)
	c.json(http.StatusOK, s.world.memberList(g, after, limit))
}

// member returns the path's guild and member, or answers the error.
func (s *Server) member(c *call) (*wGuild, object) {
	g := s.guild(c)
	if g == nil {
		return nil, nil
	}
	uid, _ := c.id("user")
	m := g.members[uid]
	if m == nil {
		c.fail(errUnknownMember)
		return nil, nil
	}
	return g, m
}

func (s *Server) getMember(c *call) {
	if _, m := s.member(c); m != nil {
		c.json(http.StatusOK, m)
	}
}

func (s *Server) addMemberRole(c *call)    { s.setMemberRole(c, true) }
func (s *Server) removeMemberRole(c *call) { s.setMemberRole(c, false) }

// setMemberRole adds or removes a role and sends GUILD_MEMBER_UPDATE when
// the member changed, as Discord does.
func (s *Server) setMemberRole(c *call, add bool) {
	g, m := s.member(c)
	if m == nil {
		return
	}
	rid, _ := c.id("role")
	if g.role(rid) == nil || rid == g.id {
		c.fail(errUnknownRole)
		return
	}
	roles, _ := m["roles"].([]any)
	has := slices.ContainsFunc(roles, func(v any) bool { return v == idString(rid) })
	if has != add {
		if add {
			roles = append(slices.Clone(roles), idString(rid))
		} else {
			roles = slices.DeleteFunc(slices.Clone(roles), func(v any) bool { return v == idString(rid) })
		}
		m["roles"] = roles
		upd := maps.Clone(m)
		upd["guild_id"] = idString(g.id)
		c.emit(g.id, "GUILD_MEMBER_UPDATE", upd)
	}
	c.noContent()
}
