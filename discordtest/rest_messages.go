package discordtest

import (
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// The routes of messages, reactions and typing. Each runs with s.mu held.

// Discord's limits on what a message carries.
const (
	maxContent   = 2000
	maxEmbeds    = 10
	maxBulk      = 100
	maxListLimit = 100
)

// messageInput is what a bot sends to create or edit a message, as far
// as the fake looks at it.
type messageInput struct {
	obj   object // the JSON body (or payload_json)
	files []ReceivedFile
}

// input reads a message from the request and checks it, or answers why
// not.
func (c *call) input(create bool) (messageInput, bool) {
	in := messageInput{obj: object{}, files: c.r.Files}
	if len(c.r.JSON) > 0 {
		o, err := decodeObject(c.r.JSON)
		if err != nil {
			c.fail(errInvalidJSON)
			return in, false
		}
		in.obj = o
	}
	return in, in.check(c, create)
}

// check applies Discord's validation to a new or edited message; create
// also refuses an empty message.
func (in messageInput) check(c *call, create bool) bool {
	var errs []formError
	if content, _ := in.obj["content"].(string); utf8.RuneCountInString(content) > maxContent {
		errs = append(errs, formError{"content", "BASE_TYPE_MAX_LENGTH", "Must be 2000 or fewer in length."})
	}
	if embeds, _ := in.obj["embeds"].([]any); len(embeds) > maxEmbeds {
		errs = append(errs, formError{"embeds", "BASE_TYPE_MAX_LENGTH", "Must be 10 or fewer in length."})
	}
	if !attachmentsMatch(in.obj, in.files) {
		errs = append(errs, formError{"attachments", "ATTACHMENT_NOT_FOUND", "Attachment data not found"})
	}
	if len(errs) > 0 {
		writeFormError(c.w, errs...)
		return false
	}
	if create && in.empty() {
		c.fail(errEmptyMessage)
		return false
	}
	return true
}

func (in messageInput) empty() bool {
	for _, k := range []string{"content", "embeds", "components", "sticker_ids", "poll"} {
		switch v := in.obj[k].(type) {
		case string:
			if v != "" {
				return false
			}
		case []any:
			if len(v) > 0 {
				return false
			}
		case object:
			return false
		}
	}
	return len(in.files) == 0
}

// attachmentsMatch checks that every new attachment (one with a small id,
// meaning a part index) names a file part that was sent, as Discord does.
func attachmentsMatch(o object, files []ReceivedFile) bool {
	have := map[string]bool{}
	for _, f := range files {
		have[f.Field] = true
	}
	for _, a := range objects(o["attachments"]) {
		if id, ok := idOf(a, "id"); ok && id < 1<<20 && !have["files["+idString(id)+"]"] {
			return false
		}
	}
	return true
}

// apply sets the fields of in on message m, as create and edit do.
func (s *Server) apply(m object, in messageInput) {
	for _, k := range []string{"content", "tts", "components", "nonce", "flags", "poll"} {
		if v, ok := in.obj[k]; ok && v != nil {
			m[k] = v
		}
	}
	if embeds, ok := in.obj["embeds"].([]any); ok {
		out := make([]any, 0, len(embeds))
		for _, e := range objects(embeds) {
			out = append(out, withDefaults(object{"type": "rich", "content_scan_version": 0}, e))
		}
		m["embeds"] = out
	}
	if _, ok := in.obj["attachments"]; ok || len(in.files) > 0 {
		atts := []any{}
		byField := map[string]ReceivedFile{}
		for _, f := range in.files {
			byField[f.Field] = f
		}
		for _, a := range objects(in.obj["attachments"]) {
			id, _ := idOf(a, "id")
			if f, ok := byField["files["+idString(id)+"]"]; ok && id < 1<<20 {
				atts = append(atts, s.attachmentLocked(f))
				delete(byField, f.Field)
			} else if old := findAttachment(m, id); old != nil {
				atts = append(atts, old)
			}
		}
		for _, f := range in.files {
			if _, left := byField[f.Field]; left {
				atts = append(atts, s.attachmentLocked(f))
			}
		}
		m["attachments"] = atts
	}
	if content, _ := m["content"].(string); content != "" {
		m["mentions"] = s.mentions(content)
		m["mention_everyone"] = strings.Contains(content, "@everyone")
	}
}

func (s *Server) attachmentLocked(f ReceivedFile) object {
	id := s.newIDLocked()
	url := "https://cdn.discordapp.com/attachments/0/" + idString(id) + "/" + f.Name
	return object{
		"id": idString(id), "filename": f.Name, "size": len(f.Data), "url": url, "proxy_url": url,
		"content_type": f.ContentType,
	}
}

func findAttachment(m object, id uint64) object {
	for _, a := range objects(m["attachments"]) {
		if aid, _ := idOf(a, "id"); aid == id {
			return a
		}
	}
	return nil
}

var mentionRE = regexp.MustCompile(`<@!?([0-9]{1,20})>`)

func (s *Server) mentions(content string) []any {
	out := []any{}
	for _, m := range mentionRE.FindAllStringSubmatch(content, 10) {
		id, _ := strconv.ParseUint(m[1], 10, 64)
		if u := s.world.users[id]; u != nil {
			out = append(out, u)
		}
	}
	return out
}

// postMessage stores a new message in ch and queues its MESSAGE_CREATE
// (none for an ephemeral message, which only its user sees).
func (s *Server) postMessage(c *call, ch *wChannel, author object, in messageInput, extra object) object {
	id := s.newIDLocked()
	m := messageDefaults(id, ch.id, author)
	maps.Copy(m, extra)
	s.apply(m, in)
	if ref, ok := in.obj["message_reference"].(object); ok {
		m["message_reference"] = withDefaults(object{"type": 0, "channel_id": idString(ch.id)}, ref)
		m["type"] = 19
		if rid, ok := idOf(ref, "message_id"); ok && ch.msgs[rid] != nil {
			m["referenced_message"] = ch.msgs[rid].render(s.world.botID)
		}
	}
	ch.msgs[id] = &wMessage{obj: m}
	ch.msgIDs = append(ch.msgIDs, id)
	ch.obj["last_message_id"] = idString(id)
	if visible(ch, m) {
		c.emit(ch.guild, "MESSAGE_CREATE", s.gatewayMessage(ch, m))
	}
	return m
}

// visible reports whether the gateway shows m: not when it is ephemeral
// (only its user sees it) or in an interaction's private channel (id 0).
func visible(ch *wChannel, m object) bool {
	return ch.id != 0 && intOf(m["flags"])&64 == 0
}

// gatewayMessage is m as MESSAGE_CREATE and MESSAGE_UPDATE carry it: with
// guild_id and the author's member in a guild.
func (s *Server) gatewayMessage(ch *wChannel, m object) object {
	out := maps.Clone(m)
	if ch.guild == 0 {
		return out
	}
	out["guild_id"] = idString(ch.guild)
	if author, _ := m["author"].(object); author != nil {
		uid, _ := idOf(author, "id")
		if mem := s.world.guilds[ch.guild].members[uid]; mem != nil && m["webhook_id"] == nil {
			out["member"] = partialMember(mem)
		}
	}
	return out
}

func (s *Server) createMessage(c *call) {
	ch := s.channel(c)
	if ch == nil {
		return
	}
	in, ok := c.input(true)
	if !ok {
		return
	}
	if ref, ok := in.obj["message_reference"].(object); ok {
		rid, _ := idOf(ref, "message_id")
		if fail, _ := ref["fail_if_not_exists"].(bool); ch.msgs[rid] == nil && (fail || ref["fail_if_not_exists"] == nil) {
			writeFormError(c.w, formError{"message_reference", "MESSAGE_REFERENCE_UNKNOWN_MESSAGE", "Unknown message"})
			return
		}
	}
	c.json(http.StatusOK, s.postMessage(c, ch, s.world.bot, in, nil))
}

// message returns the path's channel and message, or answers the error.
func (s *Server) message(c *call) (*wChannel, *wMessage) {
	ch := s.channel(c)
	if ch == nil {
		return nil, nil
	}
	id, _ := c.id("message")
	m := ch.msgs[id]
	if m == nil {
		c.fail(errUnknownMessage)
		return nil, nil
	}
	return ch, m
}

func (s *Server) getMessage(c *call) {
	if _, m := s.message(c); m != nil {
		c.json(http.StatusOK, m.render(s.world.botID))
	}
}

func (s *Server) listMessages(c *call) {
	ch := s.channel(c)
	if ch == nil {
		return
	}
	limit := 50
	if v := c.r.Query.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxListLimit {
			writeFormError(c.w, formError{"limit", "NUMBER_TYPE_MAX", "int value should be less than or equal to 100."})
			return
		}
		limit = n
	}
	q := c.r.Query
	before, _ := strconv.ParseUint(q.Get("before"), 10, 64)
	after, _ := strconv.ParseUint(q.Get("after"), 10, 64)
	out := []any{}
	for i := len(ch.msgIDs) - 1; i >= 0 && len(out) < limit; i-- {
		id := ch.msgIDs[i]
		if (before == 0 || id < before) && id > after {
			out = append(out, ch.msgs[id].render(s.world.botID))
		}
	}
	c.json(http.StatusOK, out)
}

func (s *Server) editMessage(c *call) {
	ch, m := s.message(c)
	if m == nil {
		return
	}
	if author, _ := m.obj["author"].(object); author["id"] != idString(s.world.botID) {
		c.fail(apiError{http.StatusForbidden, 50005, "Cannot edit a message authored by another user"})
		return
	}
	s.edit(c, ch, m)
}

// edit applies an edit and queues MESSAGE_UPDATE.
func (s *Server) edit(c *call, ch *wChannel, m *wMessage) {
	in, ok := c.input(false)
	if !ok {
		return
	}
	s.apply(m.obj, in)
	m.obj["edited_timestamp"] = timestamp(s.now())
	out := m.render(s.world.botID)
	if visible(ch, m.obj) {
		c.emit(ch.guild, "MESSAGE_UPDATE", s.gatewayMessage(ch, out))
	}
	c.json(http.StatusOK, out)
}

func (s *Server) deleteMessage(c *call) {
	ch, m := s.message(c)
	if m == nil {
		return
	}
	id, _ := idOf(m.obj, "id")
	s.removeMessages(ch, id)
	ev := object{"id": idString(id), "channel_id": idString(ch.id)}
	if ch.guild != 0 {
		ev["guild_id"] = idString(ch.guild)
	}
	c.emit(ch.guild, "MESSAGE_DELETE", ev)
	c.noContent()
}

func (s *Server) removeMessages(ch *wChannel, ids ...uint64) {
	for _, id := range ids {
		delete(ch.msgs, id)
	}
	ch.msgIDs = slices.DeleteFunc(ch.msgIDs, func(id uint64) bool { return slices.Contains(ids, id) })
}

// bulkDelete answers Bulk Delete Messages: 2 to 100 ids, none older than
// two weeks.
func (s *Server) bulkDelete(c *call) {
	ch := s.channel(c)
	if ch == nil {
		return
	}
	var body struct {
		Messages []string `json:"messages"`
	}
	if c.r.Decode(&body) != nil || len(body.Messages) < 2 || len(body.Messages) > maxBulk {
		writeFormError(c.w, formError{"messages", "BASE_TYPE_BAD_LENGTH", "Must be between 2 and 100 in length."})
		return
	}
	var ids []uint64
	for _, v := range body.Messages {
		id, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			writeFormError(c.w, formError{"messages", "NUMBER_TYPE_COERCE", "Value \"" + v + "\" is not snowflake."})
			return
		}
		if s.now().Sub(snowflakeTime(id)) > 14*24*time.Hour {
			c.fail(errTooManyMessages)
			return
		}
		ids = append(ids, id)
	}
	s.removeMessages(ch, ids...)
	ev := object{"ids": body.Messages, "channel_id": idString(ch.id)}
	if ch.guild != 0 {
		ev["guild_id"] = idString(ch.guild)
	}
	c.emit(ch.guild, "MESSAGE_DELETE_BULK", ev)
	c.noContent()
}

func (s *Server) typing(c *call) {
	ch := s.channel(c)
	if ch == nil {
		return
	}
	ev := object{"channel_id": idString(ch.id), "user_id": idString(s.world.botID), "timestamp": s.now().Unix()}
	if ch.guild != 0 {
		ev["guild_id"] = idString(ch.guild)
		ev["member"] = s.world.guilds[ch.guild].members[s.world.botID]
	}
	c.emit(ch.guild, "TYPING_START", ev)
	c.noContent()
}

// render is the message as REST answers it, with its reactions as the
// bot sees them.
func (m *wMessage) render(botID uint64) object {
	if len(m.reactions) == 0 {
		return m.obj
	}
	out := maps.Clone(m.obj)
	rs := make([]any, 0, len(m.reactions))
	for _, r := range m.reactions {
		rs = append(rs, object{
			"count": len(r.users), "count_details": object{"burst": 0, "normal": len(r.users)},
			"me": slices.Contains(r.users, botID), "me_burst": false, "emoji": r.emoji, "burst_colors": []any{},
		})
	}
	out["reactions"] = rs
	return out
}
