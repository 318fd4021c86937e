package discordtest

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"time"
)

// allMembersInterval is Discord's limit on requests for all of a guild's
// members: one per guild per 30 s.
const allMembersInterval = 30 * time.Second

// requestMembersLocked answers op 8 REQUEST_GUILD_MEMBERS with one
// GUILD_MEMBERS_CHUNK from Gateway.Members, or with a RATE_LIMITED dispatch
// for a second request for all members of a guild within 30 s.
func (g *Gateway) requestMembersLocked(c *gwConn, raw json.RawMessage, now time.Time) {
	var d struct {
		GuildID flexID  `json:"guild_id"`
		Query   *string `json:"query"`
		Limit   int     `json:"limit"`
		UserIDs flexIDs `json:"user_ids"`
		Nonce   string  `json:"nonce"`
	}
	if !g.decodeLocked(c, raw, &d) {
		return
	}
	gid, err := strconv.ParseUint(string(d.GuildID), 10, 64)
	if err != nil || c.sess == nil {
		g.closeConnLocked(c, closeDecodeError, "decode error")
		return
	}
	all := len(d.UserIDs) == 0 && (d.Query == nil || *d.Query == "") && d.Limit == 0
	if all {
		if last, ok := g.allMembers[gid]; ok && now.Sub(last) < allMembersInterval {
			wait := allMembersInterval - now.Sub(last)
			rl, _ := json.Marshal(map[string]any{
				"opcode":      opRequestMembers,
				"retry_after": math.Ceil(wait.Seconds()*1000) / 1000,
				"meta":        map[string]any{"guild_id": d.GuildID, "nonce": d.Nonce},
			})
			g.dispatchLocked(c.sess, "RATE_LIMITED", rl)
			return
		}
		g.allMembers[gid] = now
	}
	members := []json.RawMessage{}
	var notFound []string
	want := map[string]bool{}
	for _, id := range d.UserIDs {
		want[string(id)] = true
	}
	for _, m := range g.membersOf(gid) {
		var mv struct {
			User struct {
				ID       string `json:"id"`
				Username string `json:"username"`
			} `json:"user"`
			Nick string `json:"nick"`
		}
		json.Unmarshal(m, &mv)
		switch {
		case len(d.UserIDs) > 0:
			if !want[mv.User.ID] {
				continue
			}
			delete(want, mv.User.ID)
		case d.Query != nil && *d.Query != "":
			q := strings.ToLower(*d.Query)
			if !strings.HasPrefix(strings.ToLower(mv.User.Username), q) && !strings.HasPrefix(strings.ToLower(mv.Nick), q) {
				continue
			}
		}
		if d.Limit > 0 && len(members) == d.Limit {
			break
		}
		members = append(members, m)
	}
	for _, id := range d.UserIDs {
		if want[string(id)] {
			notFound = append(notFound, string(id))
		}
	}
	chunk := map[string]any{
		"guild_id": d.GuildID, "members": members, "chunk_index": 0, "chunk_count": 1,
	}
	if d.Nonce != "" {
		chunk["nonce"] = d.Nonce
	}
	if len(d.UserIDs) > 0 {
		chunk["not_found"] = append([]string{}, notFound...)
	}
	b, _ := json.Marshal(chunk)
	g.dispatchLocked(c.sess, "GUILD_MEMBERS_CHUNK", b)
}

// membersOf is a guild's members for GUILD_MEMBERS_CHUNK: Gateway.Members,
// or the Server's when it holds the guild.
func (g *Gateway) membersOf(gid uint64) []json.RawMessage {
	if ms, ok := g.Members[gid]; ok || g.Server == nil {
		return ms
	}
	return g.Server.members(gid)
}

// flexID is a snowflake sent as a string or, as discord.py does, a number.
type flexID string

func (f *flexID) UnmarshalJSON(b []byte) error {
	var n json.Number
	if err := json.Unmarshal(b, &n); err == nil {
		*f = flexID(n)
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	*f = flexID(s)
	return nil
}

// flexIDs is user_ids: one snowflake or an array of them.
type flexIDs []flexID

func (f *flexIDs) UnmarshalJSON(b []byte) error {
	var list []flexID
	if err := json.Unmarshal(b, &list); err == nil {
		*f = list
		return nil
	}
	var one flexID
	if err := one.UnmarshalJSON(b); err != nil {
		return err
	}
	*f = flexIDs{one}
	return nil
}
