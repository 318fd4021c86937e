package discordtest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"
)

// world is what the fake knows of Discord: the sample guilds with their
// channels, roles and members, the messages sent, DMs, application
// commands and interactions. The REST routes read and change it and the
// gateway sends its GUILD_CREATEs, so what a bot sees over both agrees.
// It is guarded by Server.mu.
type world struct {
	botID    uint64
	appID    uint64
	bot      object
	users    map[uint64]object
	guilds   map[uint64]*wGuild
	order    []uint64 // guild ids, in the order added
	channels map[uint64]*wChannel
	dms      map[uint64]uint64 // recipient -> DM channel
	commands []object          // global and guild commands, in creation order
	inters   map[uint64]*wInteraction
}

type wGuild struct {
	id       uint64
	obj      object // the guild object, without GUILD_CREATE's lists
	extras   object // GUILD_CREATE-only fields the sample gave
	roles    []object
	channels []uint64
	members  map[uint64]object
	joined   time.Time
}

type wChannel struct {
	id     uint64
	guild  uint64 // 0 for a DM
	obj    object
	msgs   map[uint64]*wMessage
	msgIDs []uint64 // ascending
}

type wMessage struct {
	obj       object
	reactions []*wReaction
}

type wReaction struct {
	key   string // "name" or "name:id", as in the route
	emoji object
	users []uint64
}

// wInteraction is an interaction the fake has seen, so that its callback
// and follow-ups act on the right channel and a second acknowledgement
// is refused.
type wInteraction struct {
	id       uint64
	token    string
	kind     int // the interaction's type
	channel  uint64
	guild    uint64
	message  uint64 // a component's message
	user     object
	seen     bool // dispatched as INTERACTION_CREATE, not learned from its answer
	acked    bool
	original uint64   // the message of the first response, 0 if none
	msgs     []uint64 // every message its responses and follow-ups made
	private  *wChannel
}

// ErrBadObject is returned for a sample object (a guild, a message) that
// the fake cannot use: not a JSON object, or without a snowflake id.
var ErrBadObject = errors.New("discordtest: bad object")

func newWorld(app uint64, botName string) *world {
	w := &world{
		botID: app, appID: app, users: map[uint64]object{}, guilds: map[uint64]*wGuild{},
		channels: map[uint64]*wChannel{}, dms: map[uint64]uint64{}, inters: map[uint64]*wInteraction{},
	}
	w.bot = userObject(app, botName, true)
	w.users[app] = w.bot
	return w
}

// decodeObject decodes a JSON object, keeping numbers exact.
func decodeObject(raw []byte) (object, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var o object
	if err := dec.Decode(&o); err != nil || o == nil {
		return nil, fmt.Errorf("%w: not a JSON object", ErrBadObject)
	}
	return o, nil
}

// decodeJSON decodes raw into v, keeping numbers exact.
func decodeJSON(raw []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	return dec.Decode(v)
}

// idOf reads an object's snowflake field (a string, or a number).
func idOf(o object, key string) (uint64, bool) {
	switch v := o[key].(type) {
	case string:
		id, err := strconv.ParseUint(v, 10, 64)
		return id, err == nil
	case json.Number:
		id, err := strconv.ParseUint(v.String(), 10, 64)
		return id, err == nil
	}
	return 0, false
}

func objects(v any) []object {
	list, _ := v.([]any)
	out := make([]object, 0, len(list))
	for _, it := range list {
		if o, ok := it.(object); ok {
			out = append(out, o)
		}
	}
	return out
}

// guildCreateOnly are the guild fields only GUILD_CREATE carries.
var guildCreateOnly = guildCreateExtras(time.Time{})

// addGuild adds (or replaces) a sample guild, filling what it leaves out:
// an @everyone role, the bot as a member, an owner, channel positions.
func (w *world) addGuild(raw []byte, now time.Time) (uint64, error) {
	given, err := decodeObject(raw)
	if err != nil {
		return 0, err
	}
	id, ok := idOf(given, "id")
	if !ok {
		return 0, fmt.Errorf("%w: guild without a snowflake id", ErrBadObject)
	}
	if old := w.guilds[id]; old != nil {
		for _, c := range old.channels {
			delete(w.channels, c)
		}
	} else {
		w.order = append(w.order, id)
	}
	g := &wGuild{id: id, members: map[uint64]object{}, joined: now, extras: object{}}
	for i, c := range objects(given["channels"]) {
		cid, ok := idOf(c, "id")
		if !ok {
			return 0, fmt.Errorf("%w: channel %d of guild %d has no id", ErrBadObject, i, id)
		}
		ch := withDefaults(channelDefaults(cid, id, i), c)
		ch["id"], ch["guild_id"] = idString(cid), idString(id)
		w.channels[cid] = &wChannel{id: cid, guild: id, obj: ch, msgs: map[uint64]*wMessage{}}
		g.channels = append(g.channels, cid)
	}
	everyone := roleDefaults(id, 0)
	everyone["name"], everyone["permissions"] = "@everyone", everyonePermissions
	g.roles = []object{everyone}
	for i, r := range objects(given["roles"]) {
		rid, ok := idOf(r, "id")
		if !ok {
			return 0, fmt.Errorf("%w: role %d of guild %d has no id", ErrBadObject, i, id)
		}
		if rid == id {
			g.roles[0] = withDefaults(everyone, r)
			g.roles[0]["id"] = idString(rid)
			continue
		}
		role := withDefaults(roleDefaults(rid, i+1), r)
		role["id"] = idString(rid)
		g.roles = append(g.roles, role)
	}
	owner := uint64(0)
	for i, m := range objects(given["members"]) {
		u, _ := m["user"].(object)
		uid, ok := idOf(u, "id")
		if !ok {
			return 0, fmt.Errorf("%w: member %d of guild %d has no user id", ErrBadObject, i, id)
		}
		name, _ := u["username"].(string)
		user := withDefaults(userObject(uid, name, false), u)
		user["id"] = idString(uid)
		w.users[uid] = user
		mem := withDefaults(memberDefaults(now), m)
		mem["user"] = user
		g.members[uid] = mem
		if owner == 0 && user["bot"] != true {
			owner = uid
		}
	}
	if _, ok := g.members[w.botID]; !ok {
		mem := memberDefaults(now)
		mem["user"] = w.bot
		g.members[w.botID] = mem
	}
	if owner == 0 {
		owner = w.botID
	}
	rest := object{}
	for k, v := range given {
		switch {
		case k == "channels" || k == "roles" || k == "members":
		case guildCreateOnly[k] != nil || k == "unavailable" || k == "joined_at":
			g.extras[k] = v
		default:
			rest[k] = v
		}
	}
	g.obj = withDefaults(guildDefaults(id, owner), rest)
	g.obj["id"] = idString(id)
	w.guilds[id] = g
	return id, nil
}

// guildObject is the guild as GET /guilds/{id} answers it.
func (w *world) guildObject(g *wGuild) object {
	o := maps.Clone(g.obj)
	o["roles"] = anyList(g.roles)
	return o
}

// guildCreate is the guild as GUILD_CREATE carries it.
func (w *world) guildCreate(g *wGuild) object {
	o := withDefaults(guildCreateExtras(g.joined), w.guildObject(g))
	maps.Copy(o, g.extras)
	chans := make([]any, 0, len(g.channels))
	for _, c := range g.channels {
		chans = append(chans, w.channels[c].obj)
	}
	o["channels"] = chans
	o["members"] = anyList(w.memberList(g, 0, len(g.members)))
	if _, given := g.extras["member_count"]; !given {
		o["member_count"] = len(g.members)
	}
	return o
}

// memberList returns up to limit members with user ids above after, in
// id order, as List Guild Members pages them.
func (w *world) memberList(g *wGuild, after uint64, limit int) []object {
	ids := slices.Sorted(maps.Keys(g.members))
	out := []object{}
	for _, id := range ids {
		if id > after && len(out) < limit {
			out = append(out, g.members[id])
		}
	}
	return out
}

func anyList(objs []object) []any {
	out := make([]any, len(objs))
	for i, o := range objs {
		out[i] = o
	}
	return out
}

// role returns the guild's role with id.
func (g *wGuild) role(id uint64) object {
	for _, r := range g.roles {
		if rid, _ := idOf(r, "id"); rid == id {
			return r
		}
	}
	return nil
}

// user returns a known user, or a plain one made up for id.
func (w *world) user(id uint64) object {
	if u := w.users[id]; u != nil {
		return u
	}
	return userObject(id, "user"+idString(id), false)
}

// partialMember is a member as MESSAGE_CREATE's member carries it: without
// its user.
func partialMember(m object) object {
	if m == nil {
		return nil
	}
	p := maps.Clone(m)
	delete(p, "user")
	return p
}
