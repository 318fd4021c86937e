package discordtest

import (
	"net/http"
	"slices"
	"strconv"
)

// The interaction callback and the webhook follow-up routes. Each runs
// with s.mu held. An interaction the fake has seen (dispatched as
// INTERACTION_CREATE through the Gateway, or made by the control API)
// answers in its channel, with MESSAGE_CREATE and MESSAGE_UPDATE as on
// Discord; one it has not seen (an HTTP interaction signed by Signer) is
// taken as it comes, its messages kept apart from any channel, and it may
// be answered more than once (tests reuse ids).

// Interaction callback types Discord accepts.
var callbackTypes = map[int]bool{1: true, 4: true, 5: true, 6: true, 7: true, 8: true, 9: true, 10: true, 12: true}

// noteInteraction learns an interaction from its INTERACTION_CREATE data.
func (s *Server) noteInteraction(data []byte) {
	o, err := decodeObject(data)
	if err != nil {
		return
	}
	id, ok := idOf(o, "id")
	token, _ := o["token"].(string)
	if !ok || token == "" {
		return
	}
	in := &wInteraction{id: id, token: token, kind: intOf(o["type"]), seen: true}
	in.channel, _ = idOf(o, "channel_id")
	in.guild, _ = idOf(o, "guild_id")
	if msg, ok := o["message"].(object); ok {
		in.message, _ = idOf(msg, "id")
	}
	if u, ok := o["user"].(object); ok {
		in.user = u
	} else if m, ok := o["member"].(object); ok {
		in.user, _ = m["user"].(object)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.world.inters[id] = in
}

// interaction returns the interaction of a callback or webhook route,
// learning it if it is new.
func (s *Server) interaction(id uint64, token string) *wInteraction {
	w := s.world
	if id != 0 {
		if in := w.inters[id]; in != nil {
			return in
		}
	} else if in := s.byToken(token); in != nil {
		return in
	}
	in := &wInteraction{id: id, token: token, kind: 2}
	if id == 0 {
		in.id = s.newIDLocked()
	}
	w.inters[in.id] = in
	return in
}

// channelOf is where an interaction's messages go: its channel when the
// fake knows it, else a private one whose messages cause no events.
func (s *Server) channelOf(in *wInteraction) *wChannel {
	if ch := s.world.channels[in.channel]; ch != nil {
		return ch
	}
	if in.private == nil {
		in.private = &wChannel{obj: object{}, msgs: map[uint64]*wMessage{}}
	}
	return in.private
}

// responseExtra are the fields of a message an interaction's answer
// creates.
func (s *Server) responseExtra(in *wInteraction) object {
	app := idString(s.world.appID)
	extra := object{"webhook_id": app, "application_id": app, "type": 20}
	if in.user != nil {
		extra["interaction_metadata"] = object{
			"id": idString(in.id), "type": in.kind, "user": in.user,
			"authorizing_integration_owners": object{}, "name": "",
		}
	}
	return extra
}

// postFor creates a message for an interaction (and its event, when the
// channel is known).
func (s *Server) postFor(c *call, in *wInteraction, body messageInput) *wMessage {
	ch := s.channelOf(in)
	m := s.postMessage(c, ch, s.world.bot, body, s.responseExtra(in))
	id, _ := idOf(m, "id")
	in.msgs = append(in.msgs, id)
	return ch.msgs[id]
}

func (s *Server) callback(c *call) {
	id, ok := c.id("interaction")
	if !ok {
		c.fail(errUnknownInteraction)
		return
	}
	body, err := decodeObject(c.r.JSON)
	typ := intOf(body["type"])
	if err != nil || !callbackTypes[typ] {
		writeFormError(c.w, formError{"type", "BASE_TYPE_CHOICES", "Value must be one of {1, 4, 5, 6, 7, 8, 9, 10, 12}."})
		return
	}
	data, _ := body["data"].(object)
	in := messageInput{obj: data, files: c.r.Files}
	if data == nil {
		in.obj = object{}
	}
	if (typ == 4 || typ == 7) && !in.check(c, false) {
		return
	}
	inter := s.interaction(id, c.param("token"))
	if inter.token != c.param("token") {
		c.fail(errUnknownInteraction)
		return
	}
	if inter.acked && inter.seen {
		c.fail(errAcknowledged)
		return
	}
	inter.acked = true
	var msg *wMessage
	switch typ {
	case 4:
		msg = s.postFor(c, inter, in)
	case 5:
		flags := intOf(in.obj["flags"])&64 | 128 // loading, ephemeral if asked
		msg = s.postFor(c, inter, messageInput{obj: object{"flags": flags}})
	case 7:
		ch := s.channelOf(inter)
		if m := ch.msgs[inter.message]; m != nil {
			s.apply(m.obj, in)
			m.obj["edited_timestamp"] = timestamp(s.now())
			c.emit(ch.guild, "MESSAGE_UPDATE", s.gatewayMessage(ch, m.render(s.world.botID)))
		}
	}
	if msg != nil {
		inter.original, _ = idOf(msg.obj, "id")
	}
	if c.r.Query.Get("with_response") != "true" {
		c.noContent()
		return
	}
	// activity_instance_id is optional, not nullable: only a launched
	// Activity has one.
	cb := object{"id": idString(inter.id), "type": inter.kind}
	res := object{"type": typ}
	if msg != nil {
		flags := intOf(msg.obj["flags"])
		cb["response_message_id"] = msg.obj["id"]
		cb["response_message_loading"] = flags&128 != 0
		cb["response_message_ephemeral"] = flags&64 != 0
		res["message"] = msg.render(s.world.botID)
	}
	if typ == 12 { // LAUNCH_ACTIVITY: the Activity instance it started
		aid := "i-" + idString(s.newIDLocked())
		cb["activity_instance_id"] = aid
		res["activity_instance"] = object{"id": aid}
	}
	c.json(http.StatusOK, object{"interaction": cb, "resource": res})
}

// webhook checks a follow-up route's application and returns its
// interaction.
func (s *Server) webhook(c *call) *wInteraction {
	if app, _ := c.id("app"); app != s.world.appID && len(s.world.guilds) > 0 {
		c.fail(errUnknownWebhook)
		return nil
	}
	return s.interaction(0, c.param("token"))
}

func (s *Server) createFollowup(c *call) {
	inter := s.webhook(c)
	if inter == nil {
		return
	}
	in, ok := c.input(true)
	if !ok {
		return
	}
	// Unlike Execute Webhook, a follow-up answers with its message
	// whatever ?wait says: Discord's docs say wait is always true here.
	m := s.postFor(c, inter, in)
	c.json(http.StatusOK, m.render(s.world.botID))
}

// followup returns the route's message of the interaction: @original or
// one of its follow-ups.
func (s *Server) followup(c *call, create bool) (*wInteraction, *wMessage) {
	inter := s.webhook(c)
	if inter == nil {
		return nil, nil
	}
	ch := s.channelOf(inter)
	id := inter.original
	if c.p["message"] != "@original" {
		id, _ = strconv.ParseUint(c.p["message"], 10, 64)
	}
	if m := ch.msgs[id]; m != nil && slices.Contains(inter.msgs, id) {
		return inter, m
	}
	if create && c.p["message"] == "@original" && inter.original == 0 {
		// An edit of @original with no response seen: the answer came
		// some way the fake did not see (an HTTP reply); make it now.
		m := s.postFor(c, inter, messageInput{obj: object{}})
		inter.original, _ = idOf(m.obj, "id")
		inter.acked = true
		return inter, m
	}
	c.fail(errUnknownMessage)
	return nil, nil
}

func (s *Server) getFollowup(c *call) {
	if _, m := s.followup(c, false); m != nil {
		c.json(http.StatusOK, m.render(s.world.botID))
	}
}

func (s *Server) editFollowup(c *call) {
	inter, m := s.followup(c, true)
	if m == nil {
		return
	}
	ch := s.channelOf(inter)
	flags := intOf(m.obj["flags"])
	if flags&128 != 0 {
		m.obj["flags"] = flags &^ 128 // the deferred answer is delivered
	}
	s.edit(c, ch, m)
}

func (s *Server) deleteFollowup(c *call) {
	inter, m := s.followup(c, false)
	if m == nil {
		return
	}
	ch := s.channelOf(inter)
	id, _ := idOf(m.obj, "id")
	s.removeMessages(ch, id)
	if id == inter.original {
		inter.original = 0
	}
	if ch.id != 0 {
		ev := object{"id": idString(id), "channel_id": idString(ch.id)}
		if ch.guild != 0 {
			ev["guild_id"] = idString(ch.guild)
		}
		c.emit(ch.guild, "MESSAGE_DELETE", ev)
	}
	c.noContent()
}
