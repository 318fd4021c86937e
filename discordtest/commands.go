package discordtest

import (
	"net/http"
	"regexp"
	"slices"

	"github.com/ipcord/ipcord/discord"
)

// commandName is Discord's rule for chat-input command and option names.
var commandName = regexp.MustCompile(`^[-_'\p{L}\p{N}\p{Devanagari}\p{Thai}]{1,32}$`)

// Commands returns the application commands registered in guild (zero for
// the global ones), as GET would list them.
func (s *Server) Commands(guild discord.Snowflake) []discord.ApplicationCommand {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.cmds[guild])
}

// commands serves /applications/{app}/commands and
// /applications/{app}/guilds/{guild}/commands, with /{command.id} for
// DELETE: list, create (replacing one of the same name and type), bulk
// overwrite and delete, keeping the commands per guild.
func (s *Server) commands(w http.ResponseWriter, r Request, seg []string) {
	var guild discord.Snowflake
	rest := seg[2:] // after "applications", "{app}"
	if len(rest) >= 2 && rest[0] == "guilds" {
		g, err := discord.ParseSnowflake(rest[1])
		if err != nil {
			writeError(w, http.StatusNotFound, 10004, "Unknown Guild")
			return
		}
		guild, rest = g, rest[2:]
	}
	app, _ := discord.ParseSnowflake(seg[1])
	switch {
	case len(rest) == 1 && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, nonNil(s.Commands(guild)))
	case len(rest) == 1 && r.Method == http.MethodPost:
		var c discord.ApplicationCommand
		if r.Decode(&c) != nil || !validCommand(&c) {
			writeError(w, http.StatusBadRequest, 50035, "Invalid Form Body")
			return
		}
		s.mu.Lock()
		c = s.stamp(c, app, guild)
		list := s.cmds[guild]
		i := slices.IndexFunc(list, func(o discord.ApplicationCommand) bool { return o.Name == c.Name && o.Type == c.Type })
		status := http.StatusCreated
		if i >= 0 {
			c.ID, list[i], status = list[i].ID, c, http.StatusOK
		} else {
			list = append(list, c)
		}
		s.setCommands(guild, list)
		s.mu.Unlock()
		writeJSON(w, status, c)
	case len(rest) == 1 && r.Method == http.MethodPut:
		var cs []discord.ApplicationCommand
		if r.Decode(&cs) != nil || len(cs) > 110 {
			writeError(w, http.StatusBadRequest, 50035, "Invalid Form Body")
			return
		}
		for i := range cs {
			if !validCommand(&cs[i]) {
				writeError(w, http.StatusBadRequest, 50035, "Invalid Form Body")
				return
			}
		}
		s.mu.Lock()
		for i := range cs {
			cs[i] = s.stamp(cs[i], app, guild)
		}
		s.setCommands(guild, cs)
		s.mu.Unlock()
		writeJSON(w, http.StatusOK, nonNil(cs))
	case len(rest) == 2 && r.Method == http.MethodDelete:
		id, _ := discord.ParseSnowflake(rest[1])
		s.mu.Lock()
		list := s.cmds[guild]
		i := slices.IndexFunc(list, func(o discord.ApplicationCommand) bool { return o.ID == id })
		if i >= 0 {
			s.setCommands(guild, slices.Delete(list, i, i+1))
		}
		s.mu.Unlock()
		if i < 0 {
			writeError(w, http.StatusNotFound, 10063, "Unknown application command")
			return
		}
		w.WriteHeader(http.StatusNoContent)
	default:
		writeError(w, http.StatusNotFound, 0, "404: Not Found")
	}
}

// stamp fills in what Discord sets on a registered command; s.mu must be
// held.
func (s *Server) stamp(c discord.ApplicationCommand, app, guild discord.Snowflake) discord.ApplicationCommand {
	s.nextID++
	c.ID = discord.Snowflake(1<<40 | s.nextID)
	c.Version = c.ID
	c.ApplicationID, c.GuildID = app, guild
	if c.Type == 0 {
		c.Type = discord.CommandChatInput
	}
	return c
}

func (s *Server) setCommands(guild discord.Snowflake, cs []discord.ApplicationCommand) {
	if s.cmds == nil {
		s.cmds = map[discord.Snowflake][]discord.ApplicationCommand{}
	}
	s.cmds[guild] = cs
}

// validCommand applies the rules Discord answers 400 for: a chat-input
// command has a lower-case name and a 1-100 character description, and
// its options (at most 25) are named and described the same way.
func validCommand(c *discord.ApplicationCommand) bool {
	if c.Type == 0 || c.Type == discord.CommandChatInput {
		return validName(c.Name) && validDescription(c.Description) && validOptions(c.Options, 0)
	}
	n := len([]rune(c.Name))
	return n >= 1 && n <= 32 && len(c.Options) == 0
}

func validOptions(os []discord.CommandOptionSpec, depth int) bool {
	if len(os) > 25 || depth > 2 {
		return false
	}
	for _, o := range os {
		if !validName(o.Name) || !validDescription(o.Description) || len(o.Choices) > 25 || !validOptions(o.Options, depth+1) {
			return false
		}
	}
	return true
}

func validName(n string) bool {
	for _, r := range n {
		if r >= 'A' && r <= 'Z' {
			return false
		}
	}
	return commandName.MatchString(n)
}

func validDescription(d string) bool {
	n := len([]rune(d))
	return n >= 1 && n <= 100
}

func nonNil(cs []discord.ApplicationCommand) []discord.ApplicationCommand {
	if cs == nil {
		return []discord.ApplicationCommand{}
	}
	return cs
}
