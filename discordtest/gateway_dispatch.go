package discordtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
)

// SessionInfo describes a shard's newest session.
type SessionInfo struct {
	ID        string
	Shard     int
	NumShards int
	// Seq is the sequence number of the last dispatch of the session.
	Seq int64
	// Conn is the number of the live connection, 0 when none is attached.
	Conn int
	// Listener is where that connection arrived.
	Listener Listener
}

// Dispatch sends an event to a shard's session and returns its sequence
// number. data is marshaled with encoding/json (a json.RawMessage is sent
// as is). With the session's connection down the event is kept and
// replayed on RESUME, as Discord does.
func (g *Gateway) Dispatch(shard int, event string, data any) (int64, error) {
	raw, err := g.prepare(event, data)
	if err != nil {
		return 0, err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.state != stateRunning {
		return 0, ErrGatewayNotStarted
	}
	s := g.currentLocked(shard)
	if s == nil {
		return 0, fmt.Errorf("%w %d", ErrNoSession, shard)
	}
	return g.dispatchLocked(s, event, raw), nil
}

// DispatchGuild sends an event to the shard of guildID by Discord's
// sharding formula, (guild_id >> 22) % num_shards, and returns the shard
// and sequence number.
func (g *Gateway) DispatchGuild(guildID uint64, event string, data any) (shard int, seq int64, err error) {
	raw, err := g.prepare(event, data)
	if err != nil {
		return 0, 0, err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.state != stateRunning {
		return 0, 0, ErrGatewayNotStarted
	}
	if s := g.guildSessionLocked(guildID); s != nil {
		return s.shard, g.dispatchLocked(s, event, raw), nil
	}
	return 0, 0, fmt.Errorf("%w of guild %d", ErrNoSession, guildID)
}

// AddGuild adds a sample guild (a JSON object with a snowflake "id"): it is
// in every later READY of its shard, and sent now as GUILD_CREATE if its
// shard has a session.
func (g *Gateway) AddGuild(guild json.RawMessage) error {
	gs, err := parseGuilds([]json.RawMessage{guild})
	if err != nil {
		return err
	}
	if g.Server != nil {
		if err := g.Server.AddGuild(gs[0].raw); err != nil {
			return fmt.Errorf("%w: %w", ErrBadGuild, err)
		}
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.state != stateRunning {
		return ErrGatewayNotStarted
	}
	g.guilds = append(g.guilds, gs[0])
	if s := g.guildSessionLocked(gs[0].id); s != nil {
		g.dispatchLocked(s, "GUILD_CREATE", g.guildCreate(gs[0]))
	}
	return nil
}

// Session returns the shard's newest session, if it has one.
func (g *Gateway) Session(shard int) (SessionInfo, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.sessionInfoLocked(shard)
}

func (g *Gateway) sessionInfoLocked(shard int) (SessionInfo, bool) {
	s := g.currentLocked(shard)
	if s == nil {
		return SessionInfo{}, false
	}
	si := SessionInfo{ID: s.id, Shard: s.shard, NumShards: s.numShards, Seq: s.seq}
	if s.conn != nil {
		si.Conn, si.Listener = s.conn.num, s.conn.listener
	}
	return si, true
}

// WaitSession blocks until the shard has a session with a live connection
// (after READY or RESUMED was queued) and returns it.
func (g *Gateway) WaitSession(ctx context.Context, shard int) (SessionInfo, error) {
	var si SessionInfo
	err := g.waitFor(ctx, func() bool {
		var ok bool
		si, ok = g.sessionInfoLocked(shard)
		return ok && si.Conn != 0
	})
	return si, err
}

type sampleGuild struct {
	id  uint64
	raw []byte
}

func parseGuilds(raws []json.RawMessage) ([]sampleGuild, error) {
	out := make([]sampleGuild, 0, len(raws))
	for i, raw := range raws {
		var v struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(raw, &v); err != nil {
			return nil, fmt.Errorf("%w %d: %w", ErrBadGuild, i, err)
		}
		id, err := strconv.ParseUint(v.ID, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%w %d: id %q is not a snowflake", ErrBadGuild, i, v.ID)
		}
		out = append(out, sampleGuild{id: id, raw: append([]byte(nil), raw...)})
	}
	return out, nil
}

// ErrBadDispatch is returned for a dispatch without an event name or with
// data that is not JSON.
var ErrBadDispatch = errors.New("discordtest: bad dispatch")

func marshalData(event string, data any) ([]byte, error) {
	if event == "" {
		return nil, fmt.Errorf("%w: empty event name", ErrBadDispatch)
	}
	if raw, ok := data.(json.RawMessage); ok {
		if !json.Valid(raw) {
			return nil, fmt.Errorf("%w: data is not valid JSON", ErrBadDispatch)
		}
		// The fake keeps the data for RESUME: the caller's may change.
		return append([]byte(nil), raw...), nil
	}
	b, err := json.Marshal(data)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadDispatch, err)
	}
	return b, nil
}

// prepare marshals a dispatch's data and tells the Server of an
// interaction, so that its callback route knows where to answer.
func (g *Gateway) prepare(event string, data any) ([]byte, error) {
	raw, err := marshalData(event, data)
	if err == nil && event == "INTERACTION_CREATE" && g.Server != nil {
		g.Server.noteInteraction(raw)
	}
	return raw, err
}

// closeConn is closeConnLocked for callers that do not hold g.mu.
func (g *Gateway) closeConn(c *gwConn, code int, reason string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.closeConnLocked(c, code, reason)
}
