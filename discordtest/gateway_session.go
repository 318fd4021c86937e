package discordtest

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"strings"
	"time"
)

// Gateway opcodes (Discord's opcodes-and-status-codes).
const (
	opDispatch       = 0
	opHeartbeat      = 1
	opIdentify       = 2
	opPresenceUpdate = 3
	opVoiceState     = 4
	opResume         = 6
	opReconnect      = 7
	opRequestMembers = 8
	opInvalidSession = 9
	opHello          = 10
	opHeartbeatACK   = 11
	opSoundboard     = 31
	opChannelInfo    = 43
)

// Gateway close codes the fake sends.
const (
	closeUnknownError    = 4000
	closeUnknownOpcode   = 4001
	closeDecodeError     = 4002
	closeNotAuth         = 4003
	closeAuthFailed      = 4004
	closeAlreadyAuth     = 4005
	closeInvalidSeq      = 4007
	closeRateLimited     = 4008
	closeSessionTimeout  = 4009
	closeInvalidShard    = 4010
	closeShardingNeeded  = 4011
	closeInvalidVersion  = 4012
	closeInvalidIntents  = 4013
	closeDisallowIntents = 4014
)

// maxPayload is Discord's limit on a payload a client sends.
const maxPayload = 4096

// identifyInterval is the identify bucket rule: one IDENTIFY per bucket per 5 s.
const identifyInterval = 5 * time.Second

// gwSession is a gateway session: its sequence and the dispatches kept for
// RESUME. It outlives connections until it is dropped.
type gwSession struct {
	id        string
	shard     int
	numShards int
	seq       int64
	buf       []*Event // the dispatches kept for RESUME; buf[i] has seq first+i
	first     int64
	conn      *gwConn
	// detached is when conn went away; the session expires SessionTimeout
	// later unless a RESUME attaches a connection again.
	detached time.Time
}

// defaultSessionTimeout stands for Discord's "a few minutes" of resumability.
const defaultSessionTimeout = 3 * time.Minute

// expiredLocked reports whether s has been without a connection for longer
// than SessionTimeout, and drops it if so. Expiry is checked when a
// session is looked up rather than by a timer, so it follows the
// Gateway's clock.
func (g *Gateway) expiredLocked(s *gwSession) bool {
	timeout := g.SessionTimeout
	if timeout == 0 {
		timeout = defaultSessionTimeout
	}
	if timeout < 0 || s.conn != nil || g.now().Sub(s.detached) <= timeout {
		return false
	}
	g.logger().Debug("discordtest: gateway session expired", "shard", s.shard, "session", s.id)
	g.dropSessionLocked(s)
	return true
}

// currentLocked returns the shard's newest session unless it has expired.
func (g *Gateway) currentLocked(shard int) *gwSession {
	s := g.current[shard]
	if s == nil || g.expiredLocked(s) {
		return nil
	}
	return s
}

// guildSessionLocked returns the session of the shard that guildID is on.
func (g *Gateway) guildSessionLocked(guildID uint64) *gwSession {
	// Every shard of a bot has the same count, so the last IDENTIFY's
	// count finds the shard at once; the loop is for mixed counts.
	if s := g.currentLocked(shardFor(guildID, max(g.numShards, 1))); s != nil && s.numShards == g.numShards {
		return s
	}
	for sh, s := range g.current {
		if shardFor(guildID, s.numShards) == sh && !g.expiredLocked(s) {
			return s
		}
	}
	return nil
}

// sweepLocked drops every expired session, so that a fake running for days
// does not keep the replay buffers of shards that never came back.
func (g *Gateway) sweepLocked() {
	for _, s := range g.sessions {
		g.expiredLocked(s)
	}
}

// hello greets a new connection, or closes it when its version is unknown.
func (g *Gateway) hello(c *gwConn) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if c.version != 9 && c.version != 10 {
		g.closeConnLocked(c, closeInvalidVersion, "invalid API version")
		return
	}
	if g.reconnectFirst > 0 {
		g.reconnectFirst--
		c.send(outItem{data: []byte(`{"op":7,"d":null,"s":null,"t":null}`)})
	}
	ms := g.heartbeatInterval().Milliseconds()
	c.send(outItem{data: []byte(`{"op":10,"d":{"heartbeat_interval":` + strconv.FormatInt(ms, 10) + `},"s":null,"t":null}`)})
}

// handle runs one payload a client sent through the gateway's rules.
func (g *Gateway) handle(c *gwConn, payload []byte) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if c.closing || g.state != stateRunning {
		return
	}
	now := g.now()
	rec := Received{Conn: c.num, Listener: c.listener, Shard: c.shard, Op: -1, Raw: payload, At: now}
	defer func() {
		if rec.Shard < 0 {
			rec.Shard = c.shard
		}
		g.received.add(rec)
		g.notifyLocked()
	}()
	if len(payload) > maxPayload {
		g.closeConnLocked(c, closeDecodeError, "payload too large")
		return
	}
	if !c.window.allow(now) {
		g.closeConnLocked(c, closeRateLimited, "rate limited")
		return
	}
	var p struct {
		Op *int            `json:"op"`
		D  json.RawMessage `json:"d"`
	}
	if err := json.Unmarshal(payload, &p); err != nil || p.Op == nil {
		g.closeConnLocked(c, closeDecodeError, "decode error")
		return
	}
	rec.Op, rec.Data = *p.Op, p.D
	switch *p.Op {
	case opHeartbeat:
		if !c.noACK {
			c.send(outItem{data: []byte(`{"op":11,"d":null,"s":null,"t":null}`)})
		}
	case opIdentify:
		if c.authed {
			g.closeConnLocked(c, closeAlreadyAuth, "already authenticated")
			return
		}
		g.identifyLocked(c, p.D, now)
	case opResume:
		if c.authed {
			g.closeConnLocked(c, closeAlreadyAuth, "already authenticated")
			return
		}
		g.resumeLocked(c, p.D)
	default:
		if !c.authed {
			g.closeConnLocked(c, closeNotAuth, "not authenticated")
			return
		}
		switch *p.Op {
		case opRequestMembers:
			g.requestMembersLocked(c, p.D, now)
		case opPresenceUpdate, opVoiceState, opSoundboard, opChannelInfo:
		default:
			g.closeConnLocked(c, closeUnknownOpcode, "unknown opcode")
		}
	}
}

// decodeLocked unmarshals a payload's d into v, or closes with 4002.
func (g *Gateway) decodeLocked(c *gwConn, raw json.RawMessage, v any) bool {
	if isNull(raw) || json.Unmarshal(raw, v) != nil {
		g.closeConnLocked(c, closeDecodeError, "decode error")
		return false
	}
	return true
}

// authLocked checks an IDENTIFY's or RESUME's token, or closes with 4004.
// A "Bot " prefix is accepted, as Discord does (discordgo sends one).
func (g *Gateway) authLocked(c *gwConn, token string) bool {
	token = strings.TrimPrefix(token, "Bot ")
	if token != "" && (g.Token == "" || token == g.Token) {
		return true
	}
	g.closeConnLocked(c, closeAuthFailed, "authentication failed")
	return false
}

func (g *Gateway) identifyLocked(c *gwConn, raw json.RawMessage, now time.Time) {
	var d struct {
		Token   string `json:"token"`
		Intents *int64 `json:"intents"`
		Shard   []int  `json:"shard"`
	}
	if !g.decodeLocked(c, raw, &d) || !g.authLocked(c, d.Token) {
		return
	}
	shard, num := 0, 1
	if d.Shard != nil {
		if len(d.Shard) != 2 {
			g.closeConnLocked(c, closeInvalidShard, "invalid shard")
			return
		}
		shard, num = d.Shard[0], d.Shard[1]
	}
	if shard < 0 || num < 1 || shard >= num {
		g.closeConnLocked(c, closeInvalidShard, "invalid shard")
		return
	}
	if num < max(g.Shards, 1) {
		g.closeConnLocked(c, closeShardingNeeded, "sharding required")
		return
	}
	var intents int64
	if d.Intents != nil {
		intents = *d.Intents
	}
	if intents < 0 || intents&^validIntents != 0 {
		g.closeConnLocked(c, closeInvalidIntents, "invalid intent(s)")
		return
	}
	if intents&g.DisallowedIntents != 0 {
		g.closeConnLocked(c, closeDisallowIntents, "disallowed intent(s)")
		return
	}
	bucket := shard % max(g.MaxConcurrency, 1)
	if last, ok := g.buckets[bucket]; ok && now.Sub(last) < identifyInterval {
		g.invalidSessionLocked(c)
		return
	}
	if g.SessionStarts != nil && !g.SessionStarts.ConsumeSessionStart() {
		g.invalidSessionLocked(c)
		return
	}
	g.buckets[bucket] = now
	if old := g.current[shard]; old != nil {
		g.dropSessionLocked(old)
	}
	g.sweepLocked()
	g.sessCount++
	g.numShards = num
	s := &gwSession{id: newSessionID(g.sessCount), shard: shard, numShards: num, first: 1}
	g.sessions[s.id] = s
	g.current[shard] = s
	c.authed, c.shard, c.sess, s.conn = true, shard, s, c
	g.logger().Debug("discordtest: gateway session started", "conn", c.num, "shard", shard, "num_shards", num, "session", s.id)
	g.dispatchLocked(s, "READY", g.readyData(c, s))
	for _, gd := range g.guilds {
		if shardFor(gd.id, num) == shard {
			g.dispatchLocked(s, "GUILD_CREATE", g.guildCreate(gd))
		}
	}
	g.flapLocked(c)
}

func (g *Gateway) resumeLocked(c *gwConn, raw json.RawMessage) {
	var d struct {
		Token     string `json:"token"`
		SessionID string `json:"session_id"`
		Seq       *int64 `json:"seq"`
	}
	if !g.decodeLocked(c, raw, &d) || !g.authLocked(c, d.Token) {
		return
	}
	s := g.sessions[d.SessionID]
	if s == nil || g.expiredLocked(s) {
		g.invalidSessionLocked(c)
		return
	}
	var seq int64
	if d.Seq != nil {
		seq = *d.Seq
	}
	if seq > s.seq || seq < 0 {
		g.dropSessionLocked(s)
		g.closeConnLocked(c, closeInvalidSeq, "invalid seq")
		return
	}
	if seq < s.first-1 {
		// The dispatches after seq are no longer kept.
		g.dropSessionLocked(s)
		g.invalidSessionLocked(c)
		return
	}
	if old := s.conn; old != nil && old != c {
		// Discord drops the old connection of a resumed session.
		old.sess, old.closing = nil, true
		old.nc.Close()
	}
	c.authed, c.shard, c.sess, s.conn = true, s.shard, s, c
	g.logger().Debug("discordtest: gateway session resumed", "conn", c.num, "listener", c.listener, "shard", s.shard, "session", s.id, "from_seq", seq, "to_seq", s.seq)
	for i, ev := range s.buf[seq-s.first+1:] {
		c.send(outItem{kind: outDispatch, ev: ev, seq: seq + 1 + int64(i)})
	}
	// RESUMED's d is an object on Discord (clients index into it).
	g.dispatchLocked(s, "RESUMED", []byte(`{}`))
	g.flapLocked(c)
}

// invalidSessionLocked sends INVALID_SESSION d:false. The connection stays
// open and unauthenticated, as Discord's does.
func (g *Gateway) invalidSessionLocked(c *gwConn) {
	c.send(outItem{data: []byte(`{"op":9,"d":false,"s":null,"t":null}`)})
}

// dispatchLocked gives the next sequence number to an event, keeps it for
// RESUME and sends it if the session has a live connection. data must be
// valid JSON (nil sends null) that nothing else changes.
func (g *Gateway) dispatchLocked(s *gwSession, event string, data []byte) int64 {
	return g.dispatchEventLocked(s, newEvent(event, data))
}

// dispatchEventLocked is dispatchLocked for an Event.
func (g *Gateway) dispatchEventLocked(s *gwSession, ev *Event) int64 {
	s.seq++
	s.buf = append(s.buf, ev)
	limit := g.ReplayLimit
	if limit <= 0 {
		limit = 10000
	}
	if n := len(s.buf) - limit; n > 0 {
		s.first += int64(n)
		clear(s.buf[:n])
		s.buf = s.buf[n:]
	}
	if c := s.conn; c != nil && !c.closing {
		c.send(outItem{kind: outDispatch, ev: ev, seq: s.seq})
	}
	return s.seq
}

// closeConnLocked queues a close frame. A close code that ends the session
// on Discord's side ends it here too.
func (g *Gateway) closeConnLocked(c *gwConn, code int, reason string) {
	if c.closing {
		return
	}
	c.closing = true
	g.logger().Debug("discordtest: gateway closing connection", "conn", c.num, "shard", c.shard, "code", code, "reason", reason)
	switch code {
	case closeInvalidSeq, closeSessionTimeout, closeAuthFailed, closeInvalidShard,
		closeShardingNeeded, closeInvalidVersion, closeInvalidIntents, closeDisallowIntents:
		if c.sess != nil {
			g.dropSessionLocked(c.sess)
		}
	}
	for i := range g.connInfo {
		if g.connInfo[i].Num == c.num {
			g.connInfo[i].ServerClose = code
		}
	}
	g.notifyLocked()
	c.send(outItem{kind: outClose, code: code, reason: reason})
}

// clientClosed handles a client's close frame: 1000 and 1001 end the
// session, any other code keeps it resumable.
func (g *Gateway) clientClosed(c *gwConn, code int, reason string) {
	g.mu.Lock()
	for i := range g.connInfo {
		if g.connInfo[i].Num == c.num {
			g.connInfo[i].ClientClose = code
		}
	}
	// A client that closes with 1000 or 1001 ends its session. Its answer
	// to a close the Gateway sent does not: the session stays as the
	// Gateway's close code left it (many clients answer any close with
	// 1000).
	if (code == 1000 || code == 1001) && c.sess != nil && !c.closing {
		g.dropSessionLocked(c.sess)
	}
	g.notifyLocked()
	if c.closing {
		// This answers our close: the handshake is complete.
		g.mu.Unlock()
		c.end()
		return
	}
	c.closing = true
	g.mu.Unlock()
	if code == 1005 {
		code = 1000
	}
	c.send(outItem{kind: outClose, code: code})
}

func (g *Gateway) dropSessionLocked(s *gwSession) {
	delete(g.sessions, s.id)
	if g.current[s.shard] == s {
		delete(g.current, s.shard)
	}
	g.notifyLocked()
}

// guildCreate is a sample guild's GUILD_CREATE data: as the Server holds
// it now, or as given.
func (g *Gateway) guildCreate(gd sampleGuild) []byte {
	if g.Server != nil {
		if b := g.Server.guildCreate(gd.id); b != nil {
			return b
		}
	}
	return gd.raw
}

func (g *Gateway) readyData(c *gwConn, s *gwSession) []byte {
	type idObj struct {
		ID          string `json:"id"`
		Unavailable bool   `json:"unavailable"`
	}
	uid := g.UserID
	if uid == 0 {
		uid = 1000000000000000001
	}
	guilds := []idObj{}
	for _, gd := range g.guilds {
		if shardFor(gd.id, s.numShards) == s.shard {
			guilds = append(guilds, idObj{strconv.FormatUint(gd.id, 10), true})
		}
	}
	ready := struct {
		V                int     `json:"v"`
		User             any     `json:"user"`
		Guilds           []idObj `json:"guilds"`
		SessionID        string  `json:"session_id"`
		ResumeGatewayURL string  `json:"resume_gateway_url"`
		Shard            [2]int  `json:"shard"`
		Application      any     `json:"application"`
		PrivateChannels  []any   `json:"private_channels"`
	}{
		V: c.version,
		User: map[string]any{
			"id": strconv.FormatUint(uid, 10), "username": "discordtest", "discriminator": "0",
			"global_name": nil, "avatar": nil, "bot": true,
		},
		Guilds:           guilds,
		SessionID:        s.id,
		ResumeGatewayURL: g.urls[1],
		Shard:            [2]int{s.shard, s.numShards},
		Application:      map[string]any{"id": strconv.FormatUint(uid, 10), "flags": 0},
		PrivateChannels:  []any{},
	}
	b, _ := json.Marshal(ready)
	return b
}

func newSessionID(n int) string {
	var b [8]byte
	rand.Read(b[:])
	return strconv.Itoa(n) + "-" + hex.EncodeToString(b[:])
}

func isNull(raw json.RawMessage) bool {
	return len(raw) == 0 || string(raw) == "null"
}

// shardFor is Discord's sharding formula.
func shardFor(guildID uint64, numShards int) int {
	return int((guildID >> 22) % uint64(numShards))
}
