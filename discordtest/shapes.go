package discordtest

import (
	"maps"
	"strconv"
	"time"

	"github.com/ipcord/ipcord/discord"
)

// The objects the fake sends carry every field Discord documents as always
// present, with its documented type: arrays as [], nullable fields as null,
// timestamps in ISO 8601. Objects are JSON maps so that a sample guild's
// own fields pass through untouched and the defaults below only fill what
// it leaves out; shapes_test.go pins them field by field.

// object is a JSON object as the fake stores and sends it.
type object = map[string]any

// withDefaults returns given with every key of defaults it lacks.
func withDefaults(defaults, given object) object {
	out := maps.Clone(defaults)
	maps.Copy(out, given)
	return out
}

// timestamp formats t as Discord does: ISO 8601 in UTC with microseconds.
func timestamp(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000000+00:00")
}

// snowflakeTime is the creation time a snowflake carries.
func snowflakeTime(id uint64) time.Time {
	return discord.Snowflake(id).Timestamp()
}

func idString(id uint64) string { return strconv.FormatUint(id, 10) }

// userObject is a user as messages, members and GET /users/{id} carry it.
func userObject(id uint64, name string, bot bool) object {
	u := object{
		"id": idString(id), "username": name, "discriminator": "0", "global_name": nil,
		"avatar": nil, "public_flags": 0, "flags": 0, "banner": nil, "accent_color": nil,
		"avatar_decoration_data": nil, "collectibles": nil, "primary_guild": nil,
	}
	if bot {
		u["bot"] = true
	}
	return u
}

func memberDefaults(joined time.Time) object {
	return object{
		"nick": nil, "avatar": nil, "banner": nil, "roles": []any{}, "joined_at": timestamp(joined),
		"premium_since": nil, "deaf": false, "mute": false, "flags": 0, "pending": false,
		"communication_disabled_until": nil,
	}
}

func roleDefaults(id uint64, position int) object {
	return object{
		"id": idString(id), "name": "new role", "color": 0,
		"colors": object{"primary_color": 0, "secondary_color": nil, "tertiary_color": nil},
		"hoist":  false, "icon": nil, "unicode_emoji": nil, "position": position, "permissions": "0",
		"managed": false, "mentionable": false, "flags": 0,
	}
}

// everyonePermissions are @everyone's defaults on a new guild.
const everyonePermissions = "2248473465835073"

func channelDefaults(id, guildID uint64, position int) object {
	return object{
		"id": idString(id), "type": 0, "guild_id": idString(guildID), "position": position,
		"permission_overwrites": []any{}, "name": "channel-" + strconv.Itoa(position), "topic": nil,
		"nsfw": false, "last_message_id": nil, "rate_limit_per_user": 0, "parent_id": nil,
		"last_pin_timestamp": nil, "flags": 0, "default_auto_archive_duration": 1440,
	}
}

func dmChannelObject(id uint64, recipient object) object {
	return object{"id": idString(id), "type": 1, "last_message_id": nil, "flags": 0, "recipients": []any{recipient}}
}

// guildDefaults are the fields of a guild object (GET /guilds/{id} and the
// first part of GUILD_CREATE).
func guildDefaults(id, ownerID uint64) object {
	return object{
		"id": idString(id), "name": "guild", "icon": nil, "icon_hash": nil, "splash": nil,
		"discovery_splash": nil, "owner_id": idString(ownerID), "afk_channel_id": nil, "afk_timeout": 300,
		"widget_enabled": false, "widget_channel_id": nil, "verification_level": 0,
		"default_message_notifications": 0, "explicit_content_filter": 0, "roles": []any{}, "emojis": []any{},
		"features": []any{}, "mfa_level": 0, "application_id": nil, "system_channel_id": nil,
		"system_channel_flags": 0, "rules_channel_id": nil, "max_presences": nil, "max_members": 500000,
		"vanity_url_code": nil, "description": nil, "banner": nil, "premium_tier": 0,
		"premium_subscription_count": 0, "preferred_locale": "en-US", "public_updates_channel_id": nil,
		"max_video_channel_users": 25, "max_stage_video_channel_users": 50, "nsfw_level": 0,
		"nsfw": false, "stickers": []any{}, "premium_progress_bar_enabled": false,
		"safety_alerts_channel_id": nil, "incidents_data": nil, "region": "deprecated",
	}
}

// guildCreateExtras are the fields only GUILD_CREATE carries.
func guildCreateExtras(joined time.Time) object {
	return object{
		"joined_at": timestamp(joined), "large": false, "unavailable": false, "member_count": 0,
		"voice_states": []any{}, "members": []any{}, "channels": []any{}, "threads": []any{},
		"presences": []any{}, "stage_instances": []any{}, "guild_scheduled_events": []any{},
		"soundboard_sounds": []any{}, "lazy": true, "application_command_counts": object{},
		"embedded_activities": []any{}, "activity_instances": []any{}, "version": 0,
		"hub_type": nil, "latest_onboarding_question_id": nil, "home_header": nil,
	}
}

// messageDefaults are a message's fields before its content.
func messageDefaults(id, channelID uint64, author object) object {
	return object{
		"id": idString(id), "channel_id": idString(channelID), "author": author, "content": "",
		"timestamp": timestamp(snowflakeTime(id)), "edited_timestamp": nil, "tts": false,
		"mention_everyone": false, "mentions": []any{}, "mention_roles": []any{}, "attachments": []any{},
		"embeds": []any{}, "components": []any{}, "pinned": false, "type": 0, "flags": 0,
	}
}

// applicationObject is GET /applications/@me and /oauth2/applications/@me.
func applicationObject(id uint64, name string, bot, owner object) object {
	return object{
		"id": idString(id), "name": name, "icon": nil, "description": "", "summary": "",
		"type": nil, "bot": bot, "owner": owner, "team": nil, "bot_public": true,
		"bot_require_code_grant": false, "verify_key": "00000000000000000000000000000000000000000000000000000000000000",
		"flags": 0, "hook": true, "is_monetized": false, "is_verified": false, "is_discoverable": false,
		"rpc_origins": []any{}, "tags": []any{}, "redirect_uris": []any{}, "interactions_endpoint_url": nil,
		"role_connections_verification_url": nil, "approximate_guild_count": 0,
		"approximate_user_install_count": 0, "integration_types_config": object{"0": object{}},
		"storefront_available": false,
		// guild_id, primary_sku_id, slug, cover_image, install_params and
		// custom_install_url are optional and not nullable: Discord omits
		// them when the application has none.
	}
}

// commandDefaults are an application command's fields.
func commandDefaults(id, appID, guildID uint64) object {
	c := object{
		"id": idString(id), "application_id": idString(appID), "version": idString(id), "type": 1,
		"name": "", "description": "", "default_member_permissions": nil, "dm_permission": true,
		"nsfw": false, "integration_types": []any{0}, "contexts": nil, "name_localizations": nil,
		"description_localizations": nil,
	}
	if guildID != 0 {
		c["guild_id"] = idString(guildID)
		delete(c, "dm_permission")
	}
	return c
}
