package discordtest

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ipcord/ipcord/internal/leaktest"
)

// shapes are the fields Discord documents as always present in each
// object the fake sends (the fields of its docs' tables without a "?"
// after the name, which its examples carry), with their types. A new field
// is one line. Kinds: snowflake, string, int, bool, array, object,
// timestamp (ISO 8601); a leading "?" allows null.
var shapes = []struct{ object, field, kind string }{
	{"user", "id", "snowflake"}, {"user", "username", "string"}, {"user", "discriminator", "string"},
	{"user", "global_name", "?string"}, {"user", "avatar", "?string"},

	{"member", "user", "object"}, {"member", "nick", "?string"}, {"member", "avatar", "?string"},
	{"member", "roles", "array"}, {"member", "joined_at", "timestamp"}, {"member", "premium_since", "?timestamp"},
	{"member", "deaf", "bool"}, {"member", "mute", "bool"}, {"member", "flags", "int"}, {"member", "pending", "bool"},
	{"member", "communication_disabled_until", "?timestamp"},

	{"role", "id", "snowflake"}, {"role", "name", "string"}, {"role", "color", "int"}, {"role", "colors", "object"},
	{"role", "hoist", "bool"}, {"role", "icon", "?string"}, {"role", "unicode_emoji", "?string"},
	{"role", "position", "int"}, {"role", "permissions", "string"}, {"role", "managed", "bool"},
	{"role", "mentionable", "bool"}, {"role", "flags", "int"},

	{"channel", "id", "snowflake"}, {"channel", "type", "int"}, {"channel", "guild_id", "snowflake"},
	{"channel", "position", "int"}, {"channel", "permission_overwrites", "array"}, {"channel", "name", "string"},
	{"channel", "topic", "?string"}, {"channel", "nsfw", "bool"}, {"channel", "last_message_id", "?snowflake"},
	{"channel", "rate_limit_per_user", "int"}, {"channel", "parent_id", "?snowflake"}, {"channel", "flags", "int"},

	{"dm", "id", "snowflake"}, {"dm", "type", "int"}, {"dm", "last_message_id", "?snowflake"},
	{"dm", "recipients", "array"}, {"dm", "flags", "int"},

	{"guild", "id", "snowflake"}, {"guild", "name", "string"}, {"guild", "icon", "?string"},
	{"guild", "splash", "?string"}, {"guild", "discovery_splash", "?string"}, {"guild", "owner_id", "snowflake"},
	{"guild", "afk_channel_id", "?snowflake"}, {"guild", "afk_timeout", "int"}, {"guild", "verification_level", "int"},
	{"guild", "default_message_notifications", "int"}, {"guild", "explicit_content_filter", "int"},
	{"guild", "roles", "array"}, {"guild", "emojis", "array"}, {"guild", "features", "array"},
	{"guild", "mfa_level", "int"}, {"guild", "application_id", "?snowflake"}, {"guild", "system_channel_id", "?snowflake"},
	{"guild", "system_channel_flags", "int"}, {"guild", "rules_channel_id", "?snowflake"},
	{"guild", "vanity_url_code", "?string"}, {"guild", "description", "?string"}, {"guild", "banner", "?string"},
	{"guild", "premium_tier", "int"}, {"guild", "preferred_locale", "string"},
	{"guild", "public_updates_channel_id", "?snowflake"}, {"guild", "nsfw_level", "int"},
	{"guild", "premium_progress_bar_enabled", "bool"}, {"guild", "safety_alerts_channel_id", "?snowflake"},
	{"guild", "stickers", "array"},

	{"guild_create", "joined_at", "timestamp"}, {"guild_create", "large", "bool"}, {"guild_create", "unavailable", "bool"},
	{"guild_create", "member_count", "int"}, {"guild_create", "voice_states", "array"}, {"guild_create", "members", "array"},
	{"guild_create", "channels", "array"}, {"guild_create", "threads", "array"}, {"guild_create", "presences", "array"},
	{"guild_create", "stage_instances", "array"}, {"guild_create", "guild_scheduled_events", "array"},
	{"guild_create", "soundboard_sounds", "array"},

	{"message", "id", "snowflake"}, {"message", "channel_id", "snowflake"}, {"message", "author", "object"},
	{"message", "content", "string"}, {"message", "timestamp", "timestamp"}, {"message", "edited_timestamp", "?timestamp"},
	{"message", "tts", "bool"}, {"message", "mention_everyone", "bool"}, {"message", "mentions", "array"},
	{"message", "mention_roles", "array"}, {"message", "attachments", "array"}, {"message", "embeds", "array"},
	{"message", "components", "array"}, {"message", "pinned", "bool"}, {"message", "type", "int"}, {"message", "flags", "int"},

	{"message_create", "guild_id", "snowflake"}, {"message_create", "member", "object"},
	{"message_delete", "id", "snowflake"}, {"message_delete", "channel_id", "snowflake"}, {"message_delete", "guild_id", "snowflake"},
	{"member_update", "guild_id", "snowflake"}, {"member_update", "roles", "array"}, {"member_update", "user", "object"},
	{"member_update", "joined_at", "timestamp"},
	{"reaction_add", "user_id", "snowflake"}, {"reaction_add", "channel_id", "snowflake"},
	{"reaction_add", "message_id", "snowflake"}, {"reaction_add", "guild_id", "snowflake"},
	{"reaction_add", "member", "object"}, {"reaction_add", "emoji", "object"}, {"reaction_add", "message_author_id", "snowflake"},
	{"reaction_add", "burst", "bool"}, {"reaction_add", "burst_colors", "array"}, {"reaction_add", "type", "int"},

	{"ready", "v", "int"}, {"ready", "user", "object"}, {"ready", "guilds", "array"}, {"ready", "session_id", "string"},
	{"ready", "resume_gateway_url", "string"}, {"ready", "shard", "array"}, {"ready", "application", "object"},
	{"resumed", "", "object"},

	{"application", "id", "snowflake"}, {"application", "name", "string"}, {"application", "icon", "?string"},
	{"application", "description", "string"}, {"application", "bot_public", "bool"},
	{"application", "bot_require_code_grant", "bool"}, {"application", "verify_key", "string"},
	{"application", "team", "?object"}, {"application", "flags", "int"},

	{"command", "id", "snowflake"}, {"command", "type", "int"}, {"command", "application_id", "snowflake"},
	{"command", "name", "string"}, {"command", "description", "string"},
	{"command", "default_member_permissions", "?string"}, {"command", "nsfw", "bool"},
	{"command", "integration_types", "array"}, {"command", "version", "snowflake"},

	{"interaction", "id", "snowflake"}, {"interaction", "application_id", "snowflake"}, {"interaction", "type", "int"},
	{"interaction", "data", "object"}, {"interaction", "guild_id", "snowflake"}, {"interaction", "channel", "object"},
	{"interaction", "channel_id", "snowflake"}, {"interaction", "member", "object"}, {"interaction", "token", "string"},
	{"interaction", "version", "int"}, {"interaction", "app_permissions", "string"}, {"interaction", "locale", "string"},
	{"interaction", "guild_locale", "string"}, {"interaction", "entitlements", "array"},
	{"interaction", "authorizing_integration_owners", "object"}, {"interaction", "context", "int"},
	{"interaction", "attachment_size_limit", "int"},

	{"callback_response", "interaction", "object"}, {"callback_response", "resource", "object"},
}

var (
	snowflakeRE = regexp.MustCompile(`^[0-9]{1,20}$`)
	isoRE       = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$`)
)

// kindOf checks v against a kind of the table.
func kindOf(v any, kind string) bool {
	if strings.HasPrefix(kind, "?") {
		if v == nil {
			return true
		}
		kind = kind[1:]
	}
	switch kind {
	case "snowflake":
		s, ok := v.(string)
		return ok && snowflakeRE.MatchString(s)
	case "string":
		_, ok := v.(string)
		return ok
	case "int":
		f, ok := v.(float64)
		return ok && f == float64(int64(f))
	case "bool":
		_, ok := v.(bool)
		return ok
	case "array":
		_, ok := v.([]any)
		return ok
	case "object":
		_, ok := v.(map[string]any)
		return ok
	case "timestamp":
		s, ok := v.(string)
		if !ok || !isoRE.MatchString(s) {
			return false
		}
		_, err := time.Parse(time.RFC3339Nano, s)
		return err == nil
	}
	return false
}

// TestShapes collects one of every object the fake sends, over REST and
// the gateway, and checks each against the table.
func TestShapes(t *testing.T) {
	leaktest.Check(t)
	f := newRESTFixture(t)
	g, u, ch := "/guilds/"+idString(wGuildID), idString(wUser), "/channels/"+idString(wChan)
	got := map[string]map[string]any{}
	got["user"] = f.want("GET", "/users/"+u, "", 200, 0)
	got["member"] = f.want("GET", g+"/members/"+u, "", 200, 0)
	got["channel"] = f.want("GET", ch, "", 200, 0)
	got["guild"] = f.want("GET", g, "", 200, 0)
	got["role"] = got["guild"]["roles"].([]any)[1].(map[string]any)
	got["dm"] = f.want("POST", "/users/@me/channels", `{"recipient_id":"`+u+`"}`, 200, 0)
	got["application"] = f.want("GET", "/oauth2/applications/@me", "", 200, 0)
	got["command"] = f.want("POST", "/applications/"+idString(wApp)+"/commands", `{"name":"ping","description":"d"}`, 201, 0)
	json.Unmarshal(f.srv.guildCreate(wGuildID), &m{&got, "guild_create"})
	got["message"] = f.want("POST", ch+"/messages", `{"content":"hi"}`, 200, 0)
	got["message_create"] = f.event("MESSAGE_CREATE")
	id := got["message"]["id"].(string)
	f.want("PUT", ch+"/messages/"+id+"/reactions/%E2%9C%85/@me", "", 204, 0)
	got["reaction_add"] = f.event("MESSAGE_REACTION_ADD")
	f.want("PUT", g+"/members/"+u+"/roles/"+idString(wRole), "", 204, 0)
	got["member_update"] = f.event("GUILD_MEMBER_UPDATE")
	f.want("DELETE", ch+"/messages/"+id, "", 204, 0)
	got["message_delete"] = f.event("MESSAGE_DELETE")
	raw, err := f.srv.RunCommand(Command{ChannelID: wChan, UserID: wUser, Name: "ping"})
	if err != nil {
		t.Fatal(err)
	}
	json.Unmarshal(raw, &m{&got, "interaction"})
	got["callback_response"] = f.want("POST", "/interactions/"+got["interaction"]["id"].(string)+"/"+
		got["interaction"]["token"].(string)+"/callback?with_response=true", `{"type":4,"data":{"content":"x"}}`, 200, 0)

	c := mustDial(t, f.gw.URL(), "v=10")
	c.mustRead(f.ctx)
	// Shard 1 of 2: its own identify bucket (the fixture has two), so it
	// need not wait for the fixture's IDENTIFY's 5 s.
	c.mustSend(f.ctx, identifyPayload("tok", 1, 2, 0))
	json.Unmarshal(c.readUntil(f.ctx, 0, "READY").D, &m{&got, "ready"})
	c.ws.Close(4000, "")
	c2 := mustDial(t, f.gw.ResumeURL(), "v=10")
	c2.mustRead(f.ctx)
	c2.mustSend(f.ctx, resumePayload("tok", got["ready"]["session_id"].(string), 1))
	got["resumed"] = map[string]any{"": nil}
	var resumed any
	json.Unmarshal(c2.readUntil(f.ctx, 0, "RESUMED").D, &resumed)
	got["resumed"][""] = resumed

	covered := map[string]bool{}
	for _, s := range shapes {
		covered[s.object] = true
		obj, ok := got[s.object]
		if !ok {
			t.Errorf("no %s collected", s.object)
			continue
		}
		v, present := obj[s.field]
		if !present {
			t.Errorf("%s has no %q", s.object, s.field)
		} else if !kindOf(v, s.kind) {
			t.Errorf("%s.%s = %#v, want %s", s.object, s.field, v, s.kind)
		}
	}
	for name := range got {
		if !covered[name] {
			t.Errorf("collected %s, which the table does not cover", name)
		}
	}
	// GUILD_CREATE is a guild too, and MESSAGE_CREATE a message.
	for _, pair := range [][2]string{{"guild_create", "guild"}, {"message_create", "message"}} {
		for _, s := range shapes {
			if s.object == pair[1] && !kindOf(got[pair[0]][s.field], s.kind) {
				t.Errorf("%s.%s = %#v, want %s", pair[0], s.field, got[pair[0]][s.field], s.kind)
			}
		}
	}
}

// m decodes a JSON object into (*dst)[name].
type m struct {
	dst  *map[string]map[string]any
	name string
}

func (x *m) UnmarshalJSON(b []byte) error {
	var o map[string]any
	if err := json.Unmarshal(b, &o); err != nil {
		return err
	}
	(*x.dst)[x.name] = o
	return nil
}

// The table's kinds must refuse what Discord would not send.
func TestShapeKinds(t *testing.T) {
	for _, c := range []struct {
		v    any
		kind string
		ok   bool
	}{
		{"123", "snowflake", true}, {123.0, "snowflake", false}, {nil, "snowflake", false}, {nil, "?snowflake", true},
		{nil, "array", false}, {[]any{}, "array", true}, {"2024-01-01T00:00:00.000000+00:00", "timestamp", true},
		{"2024-01-01", "timestamp", false}, {1.5, "int", false}, {map[string]any{}, "object", true},
	} {
		if kindOf(c.v, c.kind) != c.ok {
			t.Errorf("kindOf(%#v, %s) != %v", c.v, c.kind, c.ok)
		}
	}
}
