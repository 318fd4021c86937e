package discordtest

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The routes of application commands, global and per guild. Each runs
// with s.mu held. A command created with the name (and type) of an
// existing one replaces it and keeps its id, as on Discord.

// commandNameRE is Discord's rule for chat input command names.
var commandNameRE = regexp.MustCompile(`^[-_'\p{L}\p{N}\p{Devanagari}\p{Thai}]{1,32}$`)

// commandScope checks the path's application (and guild) and returns the
// guild id, 0 for global commands.
func (s *Server) commandScope(c *call) (uint64, bool) {
	if app, _ := c.id("app"); app != s.world.appID && len(s.world.guilds) > 0 {
		c.fail(errUnknownApplication)
		return 0, false
	}
	if c.p["guild"] == "" {
		return 0, true
	}
	id, _ := c.id("guild")
	if s.world.guilds[id] == nil && len(s.world.guilds) > 0 {
		c.fail(errUnknownGuild)
		return 0, false
	}
	if id == 0 {
		c.fail(errUnknownGuild)
		return 0, false
	}
	return id, true
}

// checkCommand returns what is wrong with a command body, field paths
// under prefix.
func checkCommand(o object, prefix string) []formError {
	var errs []formError
	typ := commandType(o)
	name, _ := o["name"].(string)
	desc, _ := o["description"].(string)
	switch {
	case typ < 1 || typ > 4:
		errs = append(errs, formError{prefix + "type", "BASE_TYPE_CHOICES", "Value must be one of {1, 2, 3, 4}."})
	case typ == 1 && (!commandNameRE.MatchString(name) || name != strings.ToLower(name)):
		errs = append(errs, formError{prefix + "name", "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid"})
	case typ != 1 && (name == "" || utf8.RuneCountInString(name) > 32):
		errs = append(errs, formError{prefix + "name", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 32 in length."})
	}
	switch n := utf8.RuneCountInString(desc); {
	case typ == 1 && (n < 1 || n > 100):
		errs = append(errs, formError{prefix + "description", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length."})
	case typ != 1 && n > 0:
		errs = append(errs, formError{prefix + "description", "APPLICATION_COMMAND_INVALID_DESCRIPTION", "Description must be empty for this command type"})
	}
	return errs
}

// commandType is a command's type; absent means 1, CHAT_INPUT.
func commandType(o object) int {
	if _, ok := o["type"]; !ok {
		return 1
	}
	return intOf(o["type"])
}

// intOf reads a JSON number however it was decoded or built.
func intOf(v any) int {
	switch n := v.(type) {
	case int:
		return n
	case float64:
		return int(n)
	case json.Number:
		i, err := n.Int64()
		if err != nil {
			return -1
		}
		return int(i)
	}
	return -1
}

// sameCommand returns the index of the scope's command with body's name
// and type, or -1.
func (s *Server) sameCommand(guild uint64, body object) int {
	for i, old := range s.world.commands {
		g, _ := idOf(old, "guild_id")
		if g == guild && old["name"] == body["name"] && commandType(old) == commandType(body) {
			return i
		}
	}
	return -1
}

// commandFrom makes the stored command for body.
func (s *Server) commandFrom(c *call, id, guild uint64, body object) object {
	app, _ := c.id("app")
	cmd := withDefaults(commandDefaults(id, app, guild), body)
	cmd["application_id"] = idString(app)
	cmd["type"] = commandType(body)
	cmd["id"] = idString(id)
	cmd["version"] = idString(s.newIDLocked())
	return cmd
}

func (s *Server) listCommands(c *call) {
	guild, ok := s.commandScope(c)
	if !ok {
		return
	}
	out := []any{}
	for _, cmd := range s.world.commands {
		if g, _ := idOf(cmd, "guild_id"); g == guild {
			out = append(out, cmd)
		}
	}
	c.json(http.StatusOK, out)
}

func (s *Server) createCommand(c *call) {
	guild, ok := s.commandScope(c)
	if !ok {
		return
	}
	body, err := decodeObject(c.r.JSON)
	if err != nil {
		c.fail(errInvalidJSON)
		return
	}
	if errs := checkCommand(body, ""); len(errs) > 0 {
		writeFormError(c.w, errs...)
		return
	}
	w := s.world
	status := http.StatusCreated
	if i := s.sameCommand(guild, body); i >= 0 {
		id, _ := idOf(w.commands[i], "id")
		w.commands[i] = s.commandFrom(c, id, guild, body)
		c.json(http.StatusOK, w.commands[i])
		return
	}
	cmd := s.commandFrom(c, s.newIDLocked(), guild, body)
	w.commands = append(w.commands, cmd)
	c.json(status, cmd)
}

// overwriteCommands answers Bulk Overwrite: the list replaces every
// command of the scope; a command whose name and type stay keeps its id.
func (s *Server) overwriteCommands(c *call) {
	guild, ok := s.commandScope(c)
	if !ok {
		return
	}
	var list []object
	if err := decodeJSON(c.r.JSON, &list); err != nil {
		c.fail(errInvalidJSON)
		return
	}
	var errs []formError
	for i, body := range list {
		errs = append(errs, checkCommand(body, strconv.Itoa(i)+".")...)
	}
	if len(errs) > 0 {
		writeFormError(c.w, errs...)
		return
	}
	w := s.world
	var others, scope []object
	for _, body := range list {
		id := s.newIDLocked()
		if i := s.sameCommand(guild, body); i >= 0 {
			id, _ = idOf(w.commands[i], "id")
		}
		scope = append(scope, s.commandFrom(c, id, guild, body))
	}
	for _, cmd := range w.commands {
		if g, _ := idOf(cmd, "guild_id"); g != guild {
			others = append(others, cmd)
		}
	}
	w.commands = append(others, scope...)
	c.json(http.StatusOK, anyList(scope))
}

// command returns the path's command and its index, or answers 10063.
func (s *Server) command(c *call) (int, object) {
	guild, ok := s.commandScope(c)
	if !ok {
		return -1, nil
	}
	id, _ := c.id("command")
	for i, cmd := range s.world.commands {
		cid, _ := idOf(cmd, "id")
		g, _ := idOf(cmd, "guild_id")
		if cid == id && g == guild {
			return i, cmd
		}
	}
	c.fail(errUnknownCommand)
	return -1, nil
}

func (s *Server) getCommand(c *call) {
	if _, cmd := s.command(c); cmd != nil {
		c.json(http.StatusOK, cmd)
	}
}

func (s *Server) editCommand(c *call) {
	i, cmd := s.command(c)
	if cmd == nil {
		return
	}
	body, err := decodeObject(c.r.JSON)
	if err != nil {
		c.fail(errInvalidJSON)
		return
	}
	merged := withDefaults(cmd, body)
	merged["type"] = cmd["type"]
	if errs := checkCommand(merged, ""); len(errs) > 0 {
		writeFormError(c.w, errs...)
		return
	}
	id, _ := idOf(cmd, "id")
	g, _ := idOf(cmd, "guild_id")
	s.world.commands[i] = s.commandFrom(c, id, g, merged)
	c.json(http.StatusOK, s.world.commands[i])
}

func (s *Server) deleteCommand(c *call) {
	i, cmd := s.command(c)
	if cmd == nil {
		return
	}
	w := s.world
	w.commands = append(w.commands[:i:i], w.commands[i+1:]...)
	c.noContent()
}
