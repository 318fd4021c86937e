// Package discord holds the Discord data types ipcord reads and writes:
// snowflakes, users, members, roles, guilds, channels, messages, embeds,
// components and interactions, plus the payloads sent back (interaction
// responses and message parameters).
//
// The types are plain structs with standard json tags so that any JSON
// library decodes them; only a few types carry their own (Un)MarshalJSON,
// where Discord's encoding needs it: Snowflake and Permissions travel as
// strings, and Component keeps component types it does not know so a
// message round-trips unchanged.
//
// Optional fields Discord may send as null or omit are pointers when the
// difference between "absent" and "zero" matters to a caller, and plain
// values otherwise. Outgoing slices use omitzero: a nil slice is not sent,
// an empty one is sent as [] (which clears the field on an edit).
package discord
