package discordtest

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

const apiRoot = "/api/v10"

// call is one request being answered: the request, its path parameters
// ("{channel}" -> "123") and the response writer.
type call struct {
	w      http.ResponseWriter
	r      Request
	p      map[string]string
	events []event // gateway events the answer causes, sent after it
}

// event is a gateway event a route causes, marshaled while the world is
// locked so that later changes do not race with sending it.
type event struct {
	guild uint64 // 0: a DM event, for shard 0
	name  string
	data  json.RawMessage
}

// emit queues a gateway event for after the answer.
func (c *call) emit(guild uint64, name string, data any) {
	b, err := json.Marshal(data)
	if err == nil {
		c.events = append(c.events, event{guild, name, b})
	}
}

// json answers status with v as JSON.
func (c *call) json(status int, v any) { writeJSON(c.w, status, v) }

// fail answers a Discord error.
func (c *call) fail(e apiError) { writeAPIError(c.w, e) }

// noContent answers 204.
func (c *call) noContent() { c.w.WriteHeader(http.StatusNoContent) }

// id returns the snowflake of path parameter name.
func (c *call) id(name string) (uint64, bool) {
	id, err := strconv.ParseUint(c.p[name], 10, 64)
	return id, err == nil
}

// param returns path parameter name, unescaped.
func (c *call) param(name string) string {
	v, err := url.PathUnescape(c.p[name])
	if err != nil {
		return c.p[name]
	}
	return v
}

// route is one modeled route; pattern segments in braces match any one
// segment.
type route struct {
	method, pattern string
	// bot marks routes that need the bot token; webhook and interaction
	// callback routes are authorized by their token instead.
	bot bool
	h   func(s *Server, c *call)
}

// routes are the REST routes the fake models, literal segments before
// parameters where they overlap ("/users/@me" before "/users/{user}").
var routes = []route{
	{"GET", "/gateway", false, (*Server).getGateway},
	{"GET", "/gateway/bot", true, (*Server).getGatewayBot},
	{"GET", "/users/@me", true, (*Server).getMe},
	{"POST", "/users/@me/channels", true, (*Server).createDM},
	{"GET", "/users/{user}", true, (*Server).getUser},
	{"GET", "/applications/@me", true, (*Server).getApplication},
	{"GET", "/oauth2/applications/@me", true, (*Server).getApplication},
	{"GET", "/applications/{app}/commands", true, (*Server).listCommands},
	{"POST", "/applications/{app}/commands", true, (*Server).createCommand},
	{"PUT", "/applications/{app}/commands", true, (*Server).overwriteCommands},
	{"GET", "/applications/{app}/commands/{command}", true, (*Server).getCommand},
	{"PATCH", "/applications/{app}/commands/{command}", true, (*Server).editCommand},
	{"DELETE", "/applications/{app}/commands/{command}", true, (*Server).deleteCommand},
	{"GET", "/applications/{app}/guilds/{guild}/commands", true, (*Server).listCommands},
	{"POST", "/applications/{app}/guilds/{guild}/commands", true, (*Server).createCommand},
	{"PUT", "/applications/{app}/guilds/{guild}/commands", true, (*Server).overwriteCommands},
	{"GET", "/applications/{app}/guilds/{guild}/commands/{command}", true, (*Server).getCommand},
	{"PATCH", "/applications/{app}/guilds/{guild}/commands/{command}", true, (*Server).editCommand},
	{"DELETE", "/applications/{app}/guilds/{guild}/commands/{command}", true, (*Server).deleteCommand},
	{"GET", "/channels/{channel}", true, (*Server).getChannel},
	{"POST", "/channels/{channel}/typing", true, (*Server).typing},
	{"GET", "/channels/{channel}/messages", true, (*Server).listMessages},
	{"POST", "/channels/{channel}/messages", true, (*Server).createMessage},
	{"POST", "/channels/{channel}/messages/bulk-delete", true, (*Server).bulkDelete},
	{"GET", "/channels/{channel}/messages/{message}", true, (*Server).getMessage},
	{"PATCH", "/channels/{channel}/messages/{message}", true, (*Server).editMessage},
	{"DELETE", "/channels/{channel}/messages/{message}", true, (*Server).deleteMessage},
	{"PUT", "/channels/{channel}/messages/{message}/reactions/{emoji}/@me", true, (*Server).addReaction},
	{"DELETE", "/channels/{channel}/messages/{message}/reactions/{emoji}/@me", true, (*Server).removeReaction},
	{"DELETE", "/channels/{channel}/messages/{message}/reactions/{emoji}/{user}", true, (*Server).removeReaction},
	{"GET", "/channels/{channel}/messages/{message}/reactions/{emoji}", true, (*Server).listReactions},
	{"GET", "/guilds/{guild}", true, (*Server).getGuild},
	{"GET", "/guilds/{guild}/channels", true, (*Server).guildChannels},
	{"GET", "/guilds/{guild}/roles", true, (*Server).guildRoles},
	{"GET", "/guilds/{guild}/members", true, (*Server).listMembers},
	{"GET", "/guilds/{guild}/members/{user}", true, (*Server).getMember},
	{"PUT", "/guilds/{guild}/members/{user}/roles/{role}", true, (*Server).addMemberRole},
	{"DELETE", "/guilds/{guild}/members/{user}/roles/{role}", true, (*Server).removeMemberRole},
	{"POST", "/interactions/{interaction}/{token}/callback", false, (*Server).callback},
	{"POST", "/webhooks/{app}/{token}", false, (*Server).createFollowup},
	{"GET", "/webhooks/{app}/{token}/messages/{message}", false, (*Server).getFollowup},
	{"PATCH", "/webhooks/{app}/{token}/messages/{message}", false, (*Server).editFollowup},
	{"DELETE", "/webhooks/{app}/{token}/messages/{message}", false, (*Server).deleteFollowup},
}

// Routes lists the routes the Server models, as "METHOD /path/{param}";
// any other answers 404 "not modeled by ipcord fake".
func Routes() []string {
	out := make([]string, len(routes))
	for i, rt := range routes {
		out[i] = rt.method + " " + rt.pattern
	}
	return out
}

// match returns the route for method and path, with its parameters.
func match(method, path string) (*route, map[string]string) {
	got := strings.Split(strings.Trim(path, "/"), "/")
	for i := range routes {
		rt := &routes[i]
		if rt.method != method {
			continue
		}
		want := strings.Split(strings.Trim(rt.pattern, "/"), "/")
		if len(want) != len(got) {
			continue
		}
		p := map[string]string{}
		ok := true
		for j, seg := range want {
			switch {
			case strings.HasPrefix(seg, "{"):
				p[strings.Trim(seg, "{}")] = got[j]
			case seg != got[j]:
				ok = false
			}
			if !ok {
				break
			}
		}
		if ok {
			return rt, p
		}
	}
	return nil, nil
}

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
	switch {
	case errors.Is(err, errBodyTooLarge):
		writeAPIError(w, errTooLarge)
		return
	case err != nil:
		writeAPIError(w, errInvalidJSON)
		return
	}
	if f := s.takeFault(r); f != nil {
		writeFault(w, f)
		return
	}
	if !s.checkLimit(w, r) {
		return
	}
	rt, p := match(r.Method, r.Path)
	if rt == nil {
		writeError(w, http.StatusNotFound, 0, "not modeled by ipcord fake: "+r.Method+" "+r.Path)
		return
	}
	if rt.bot && !s.authorized(w, r) {
		return
	}
	// A route runs with the world locked, so what it reads and changes is
	// consistent; its gateway events go out after the lock is released, as
	// the Gateway takes its own lock.
	c := &call{w: w, r: r, p: p}
	s.mu.Lock()
	rt.h(s, c)
	s.mu.Unlock()
	s.sendEvents(c.events)
}

// sendEvents dispatches events to the attached Gateway, if any: a guild's
// to its shard, the rest to shard 0. An event for a shard without a
// session is dropped, as on Discord.
func (s *Server) sendEvents(evs []event) {
	s.mu.Lock()
	gw := s.events
	s.mu.Unlock()
	if gw == nil {
		return
	}
	for _, ev := range evs {
		if ev.guild != 0 {
			gw.DispatchGuild(ev.guild, ev.name, ev.data)
		} else {
			gw.Dispatch(0, ev.name, ev.data)
		}
	}
}

func (s *Server) authorized(w http.ResponseWriter, r Request) bool {
	if s.opts.Token != "" && r.Header.Get("Authorization") != "Bot "+s.opts.Token {
		writeAPIError(w, errUnauthorized)
		return false
	}
	return true
}

func (s *Server) getGateway(c *call) {
	c.json(http.StatusOK, map[string]string{"url": s.gw.URL})
}

func (s *Server) getGatewayBot(c *call) {
	s.refillLocked()
	c.json(http.StatusOK, s.gw)
}
