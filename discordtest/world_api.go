package discordtest

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/ipcord/ipcord/discord"
)

// ErrUnknown is returned by the Server's Go API for a channel, guild,
// user or message it does not hold.
var ErrUnknown = errors.New("discordtest: unknown id")

// SendMessage posts a message as the user authorID would by typing it in
// channelID: it is stored, so a bot can fetch, edit-check, react to or
// reply to it, and sent over the attached Gateway as MESSAGE_CREATE. The
// author must be a member of the channel's guild (or anyone, in a DM or
// a Server that holds no guilds). It returns the message as sent.
func (s *Server) SendMessage(channelID, authorID uint64, content string) (json.RawMessage, error) {
	c := &call{}
	s.mu.Lock()
	w := s.world
	ch := w.channels[channelID]
	if ch == nil {
		s.mu.Unlock()
		return nil, fmt.Errorf("%w: channel %d", ErrUnknown, channelID)
	}
	author := w.user(authorID)
	if ch.guild != 0 && w.guilds[ch.guild].members[authorID] == nil {
		s.mu.Unlock()
		return nil, fmt.Errorf("%w: user %d is not a member of guild %d", ErrUnknown, authorID, ch.guild)
	}
	m := s.postMessage(c, ch, author, messageInput{obj: object{"content": content}}, nil)
	b, err := json.Marshal(s.gatewayMessage(ch, m))
	s.mu.Unlock()
	s.sendEvents(c.events)
	return b, err
}

// Command is a chat input command a user runs, for Server.RunCommand.
type Command struct {
	ChannelID, UserID uint64
	// Name is the command's name; a registered command of that name
	// lends its id.
	Name string
	// Options are the command's options as Discord sends them
	// ([{"name":"n","type":4,"value":3}]); nil sends none.
	Options []any
}

// allPermissions is every permission bit, as a guild owner has.
const allPermissions = "2251799813685247"

// RunCommand makes the INTERACTION_CREATE Discord sends when a user runs a
// command in a channel, dispatches it over the attached Gateway (to the
// channel's guild's shard, or shard 0), and returns it. The fake then
// answers its callback and follow-ups in that channel, once, as Discord
// does.
func (s *Server) RunCommand(cmd Command) (json.RawMessage, error) {
	s.mu.Lock()
	w := s.world
	ch := w.channels[cmd.ChannelID]
	if ch == nil {
		s.mu.Unlock()
		return nil, fmt.Errorf("%w: channel %d", ErrUnknown, cmd.ChannelID)
	}
	var tok [24]byte
	rand.Read(tok[:])
	id := s.newIDLocked()
	cmdID := s.newIDLocked()
	for _, c := range w.commands {
		if c["name"] == cmd.Name {
			cmdID, _ = idOf(c, "id")
		}
	}
	data := object{"id": idString(cmdID), "name": cmd.Name, "type": 1}
	if cmd.Options != nil {
		data["options"] = cmd.Options
	}
	in := object{
		"id": idString(id), "application_id": idString(w.appID), "type": 2, "data": data,
		"channel": ch.obj, "channel_id": idString(ch.id), "token": "fake." + hex.EncodeToString(tok[:]),
		"version": 1, "app_permissions": allPermissions, "locale": "en-US", "entitlements": []any{},
		"attachment_size_limit": 26214400, "context": 1,
		"authorizing_integration_owners": object{"0": idString(cmd.UserID)},
	}
	if ch.guild != 0 {
		mem := w.guilds[ch.guild].members[cmd.UserID]
		if mem == nil {
			s.mu.Unlock()
			return nil, fmt.Errorf("%w: user %d is not a member of guild %d", ErrUnknown, cmd.UserID, ch.guild)
		}
		m := withDefaults(mem, object{"permissions": allPermissions})
		in["member"], in["guild_id"], in["guild_locale"], in["context"] = m, idString(ch.guild), "en-US", 0
		data["guild_id"] = idString(ch.guild)
		in["guild"] = object{"id": idString(ch.guild), "locale": "en-US", "features": []any{}}
		in["authorizing_integration_owners"] = object{"0": idString(ch.guild)}
	} else {
		in["user"] = w.user(cmd.UserID)
	}
	raw, err := json.Marshal(in)
	gw := s.events
	s.mu.Unlock()
	if err != nil {
		return nil, err
	}
	if gw == nil {
		s.noteInteraction(raw)
		return raw, nil
	}
	if ch.guild != 0 {
		_, _, err = gw.DispatchGuild(ch.guild, "INTERACTION_CREATE", json.RawMessage(raw))
	} else {
		_, err = gw.Dispatch(0, "INTERACTION_CREATE", json.RawMessage(raw))
	}
	return raw, err
}

// Commands returns the application commands registered in guild (zero for
// the global ones), as GET would list them.
func (s *Server) Commands(guild discord.Snowflake) []discord.ApplicationCommand {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []discord.ApplicationCommand{}
	for _, cmd := range s.world.commands {
		if g, _ := idOf(cmd, "guild_id"); g == uint64(guild) {
			var c discord.ApplicationCommand
			if b, err := json.Marshal(cmd); err == nil && json.Unmarshal(b, &c) == nil {
				out = append(out, c)
			}
		}
	}
	return out
}

// Original returns the first response an interaction token has made (or
// that an edit of @original created), as Discord would return it, and
// whether there is one.
func (s *Server) Original(token string) (discord.Message, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	in := s.byToken(token)
	if in == nil || in.original == 0 {
		return discord.Message{}, false
	}
	return s.messageOf(in, in.original)
}

// Followups returns the follow-up messages an interaction token has sent
// and not deleted, in the order sent.
func (s *Server) Followups(token string) []discord.Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []discord.Message
	if in := s.byToken(token); in != nil {
		for _, id := range in.msgs {
			if id == in.original {
				continue
			}
			if m, ok := s.messageOf(in, id); ok {
				out = append(out, m)
			}
		}
	}
	return out
}

func (s *Server) byToken(token string) *wInteraction {
	for _, in := range s.world.inters {
		if in.token == token {
			return in
		}
	}
	return nil
}

// messageOf decodes one of an interaction's messages, if it still exists.
func (s *Server) messageOf(in *wInteraction, id uint64) (discord.Message, bool) {
	var m discord.Message
	wm := s.channelOf(in).msgs[id]
	if wm == nil {
		return m, false
	}
	b, err := json.Marshal(wm.render(s.world.botID))
	return m, err == nil && json.Unmarshal(b, &m) == nil
}
