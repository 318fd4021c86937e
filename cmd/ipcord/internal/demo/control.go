package demo

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ipcord/ipcord/discord"
	"github.com/ipcord/ipcord/discordtest"
)

// ErrBadControl is returned (wrapped) for a control API request that
// cannot be decoded or names an unknown fault.
var ErrBadControl = errors.New("demo: bad control request")

// maxControlBody bounds a control API request body.
const maxControlBody = 1 << 20

// DispatchRequest is the body of POST /_fake/dispatch: an event name, its
// data, and optionally the shard to send it to. Without a shard the event
// goes to the shard of d's guild_id, or shard 0.
type DispatchRequest struct {
	T     string          `json:"t"`
	D     json.RawMessage `json:"d"`
	Shard *int            `json:"shard,omitempty"`
}

// FaultRequest is the body of POST /_fake/fault: a fault of discordtest by
// name, with the parameters that fault uses.
//
//	reconnect, request_heartbeat, stop_heartbeat_acks, cut_mid_frame,
//	corrupt_stream, drop_session       shard
//	invalid_session                    shard, resumable
//	close                              shard, code (default 4000), reason
//	delay_frames                       shard, ms
//	refuse_connections                 ms
//	flap                               ms (connections dropped after READY/RESUMED; 0 ends it)
//	reconnect_before_hello             n
//	rest                               route, status, retry_after_ms, global, times
type FaultRequest struct {
	Name         string `json:"name"`
	Shard        int    `json:"shard"`
	Code         int    `json:"code"`
	Reason       string `json:"reason"`
	Resumable    bool   `json:"resumable"`
	MS           int    `json:"ms"`
	N            int    `json:"n"`
	Route        string `json:"route"`
	Status       int    `json:"status"`
	RetryAfterMS int    `json:"retry_after_ms"`
	Global       bool   `json:"global"`
	Times        int    `json:"times"`
}

// faultNames are the faults FaultRequest.Name accepts.
var faultNames = map[string]bool{
	"reconnect": true, "request_heartbeat": true, "stop_heartbeat_acks": true, "cut_mid_frame": true,
	"corrupt_stream": true, "drop_session": true, "invalid_session": true, "close": true,
	"delay_frames": true, "refuse_connections": true, "reconnect_before_hello": true, "rest": true,
	"flap": true,
}

// DecodeDispatch parses a POST /_fake/dispatch body.
func DecodeDispatch(body []byte) (DispatchRequest, error) {
	var r DispatchRequest
	if err := decodeStrict(body, &r); err != nil {
		return r, err
	}
	if r.T == "" {
		return r, fmt.Errorf("%w: no event name in \"t\"", ErrBadControl)
	}
	if len(r.D) == 0 {
		r.D = json.RawMessage("{}")
	}
	if r.Shard != nil && *r.Shard < 0 {
		return r, fmt.Errorf("%w: negative shard", ErrBadControl)
	}
	return r, nil
}

// DecodeFault parses a POST /_fake/fault body.
func DecodeFault(body []byte) (FaultRequest, error) {
	var r FaultRequest
	if err := decodeStrict(body, &r); err != nil {
		return r, err
	}
	if !faultNames[r.Name] {
		return r, fmt.Errorf("%w: unknown fault %q", ErrBadControl, r.Name)
	}
	if r.Shard < 0 || r.MS < 0 || r.N < 0 || r.RetryAfterMS < 0 || r.Times < 0 {
		return r, fmt.Errorf("%w: negative parameter", ErrBadControl)
	}
	if r.Name == "rest" && (r.Status < 400 || r.Status > 599) {
		return r, fmt.Errorf("%w: rest fault needs a status in 400-599", ErrBadControl)
	}
	if r.Name == "close" && r.Code != 0 && (r.Code < 1000 || r.Code > 4999) {
		return r, fmt.Errorf("%w: close code %d out of range", ErrBadControl, r.Code)
	}
	return r, nil
}

// MessageRequest is the body of POST /_fake/message: a message a user
// types in a channel, which the fake stores and sends to bots as
// MESSAGE_CREATE. AuthorID defaults to the first sample user.
type MessageRequest struct {
	ChannelID discord.Snowflake `json:"channel_id"`
	AuthorID  discord.Snowflake `json:"author_id"`
	Content   string            `json:"content"`
}

// DecodeMessage parses a POST /_fake/message body.
func DecodeMessage(body []byte) (MessageRequest, error) {
	var r MessageRequest
	if err := decodeStrict(body, &r); err != nil {
		return r, err
	}
	if r.ChannelID == 0 {
		return r, fmt.Errorf("%w: no channel_id", ErrBadControl)
	}
	if n := utf8.RuneCountInString(r.Content); n == 0 || n > 2000 || !utf8.ValidString(r.Content) {
		return r, fmt.Errorf("%w: content must be 1 to 2000 characters of UTF-8", ErrBadControl)
	}
	if r.AuthorID == 0 {
		r.AuthorID = discord.Snowflake(sampleUsers[0].ID)
	}
	return r, nil
}

func (f *Fake) handleMessage(w http.ResponseWriter, r *http.Request) {
	body, ok := readControl(w, r)
	if !ok {
		return
	}
	m, err := DecodeMessage(body)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
		return
	}
	msg, err := f.rest.SendMessage(uint64(m.ChannelID), uint64(m.AuthorID), m.Content)
	if err != nil {
		writeJSON(w, http.StatusConflict, map[string]string{"error": err.Error()})
		return
	}
	f.metrics.messages.Inc()
	w.Header().Set("Content-Type", "application/json")
	w.Write(msg)
}

// CommandRequest is the body of POST /_fake/command: a user runs a slash
// command in a channel, and bots get its INTERACTION_CREATE over the
// gateway. UserID defaults to the first sample user.
type CommandRequest struct {
	ChannelID discord.Snowflake `json:"channel_id"`
	UserID    discord.Snowflake `json:"user_id"`
	Name      string            `json:"name"`
}

// DecodeCommand parses a POST /_fake/command body.
func DecodeCommand(body []byte) (CommandRequest, error) {
	var r CommandRequest
	if err := decodeStrict(body, &r); err != nil {
		return r, err
	}
	if r.ChannelID == 0 {
		return r, fmt.Errorf("%w: no channel_id", ErrBadControl)
	}
	if n := utf8.RuneCountInString(r.Name); n == 0 || n > 32 || strings.ContainsFunc(r.Name, func(c rune) bool { return c <= ' ' || c == '/' }) {
		return r, fmt.Errorf("%w: command name %q is not 1 to 32 characters without spaces", ErrBadControl, r.Name)
	}
	if r.UserID == 0 {
		r.UserID = discord.Snowflake(sampleUsers[0].ID)
	}
	return r, nil
}

func (f *Fake) handleCommand(w http.ResponseWriter, r *http.Request) {
	body, ok := readControl(w, r)
	if !ok {
		return
	}
	c, err := DecodeCommand(body)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
		return
	}
	in, err := f.rest.RunCommand(discordtest.Command{ChannelID: uint64(c.ChannelID), UserID: uint64(c.UserID), Name: c.Name})
	if err != nil {
		writeJSON(w, http.StatusConflict, map[string]string{"error": err.Error()})
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(in)
}

func decodeStrict(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: %w", ErrBadControl, err)
	}
	if dec.More() {
		return fmt.Errorf("%w: trailing data after the JSON object", ErrBadControl)
	}
	return nil
}

func readControl(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxControlBody))
	if err != nil {
		writeJSON(w, http.StatusRequestEntityTooLarge, map[string]string{"error": err.Error()})
		return nil, false
	}
	return body, true
}

func (f *Fake) handleDispatch(w http.ResponseWriter, r *http.Request) {
	body, ok := readControl(w, r)
	if !ok {
		return
	}
	d, err := DecodeDispatch(body)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
		return
	}
	var shard int
	var seq int64
	switch {
	case d.Shard != nil:
		shard = *d.Shard
		seq, err = f.gw.Dispatch(shard, d.T, d.D)
	default:
		if id, ok := guildID(d.D); ok {
			shard, seq, err = f.gw.DispatchGuild(id, d.T, d.D)
		} else {
			seq, err = f.gw.Dispatch(0, d.T, d.D)
		}
	}
	if err != nil {
		writeJSON(w, http.StatusConflict, map[string]string{"error": err.Error()})
		return
	}
	f.metrics.dispatches.Inc()
	writeJSON(w, http.StatusOK, map[string]any{"shard": shard, "seq": seq})
}

// guildID reads d's guild_id, a snowflake sent as a string (as Discord
// does) or a number.
func guildID(d json.RawMessage) (uint64, bool) {
	var g struct {
		GuildID json.RawMessage `json:"guild_id"`
	}
	if json.Unmarshal(d, &g) != nil {
		return 0, false
	}
	id, err := strconv.ParseUint(strings.Trim(string(g.GuildID), `"`), 10, 64)
	return id, err == nil && id > 0
}

func (f *Fake) handleFault(w http.ResponseWriter, r *http.Request) {
	body, ok := readControl(w, r)
	if !ok {
		return
	}
	fr, err := DecodeFault(body)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
		return
	}
	if err := f.applyFault(fr); err != nil {
		writeJSON(w, http.StatusConflict, map[string]string{"error": err.Error()})
		return
	}
	f.metrics.faults.WithLabelValues(fr.Name).Inc()
	writeJSON(w, http.StatusOK, map[string]string{"applied": fr.Name})
}

// applyFault maps a named fault onto discordtest's API.
func (f *Fake) applyFault(r FaultRequest) error {
	ms := time.Duration(r.MS) * time.Millisecond
	switch r.Name {
	case "reconnect":
		return f.gw.SendReconnect(r.Shard)
	case "request_heartbeat":
		return f.gw.RequestHeartbeat(r.Shard)
	case "stop_heartbeat_acks":
		return f.gw.StopHeartbeatACKs(r.Shard)
	case "cut_mid_frame":
		return f.gw.CutMidFrame(r.Shard)
	case "corrupt_stream":
		return f.gw.CorruptStream(r.Shard)
	case "drop_session":
		return f.gw.DropSession(r.Shard)
	case "invalid_session":
		return f.gw.SendInvalidSession(r.Shard, r.Resumable)
	case "close":
		code := r.Code
		if code == 0 {
			code = 4000
		}
		return f.gw.CloseShard(r.Shard, code, r.Reason)
	case "delay_frames":
		return f.gw.DelayFrames(r.Shard, ms)
	case "refuse_connections":
		f.gw.RefuseConnections(ms)
	case "flap":
		f.gw.Flap(ms)
	case "reconnect_before_hello":
		f.gw.ReconnectBeforeHello(max(r.N, 1))
	case "rest":
		f.rest.InjectFault(discordtest.Fault{
			Route: r.Route, Status: r.Status, Global: r.Global, Times: r.Times,
			RetryAfter: time.Duration(r.RetryAfterMS) * time.Millisecond,
		})
	}
	return nil
}

// SentPayload is one gateway payload a client sent, as GET /_fake/sent
// lists it, with how it arrived: the listener ("main", or "resume" for
// resume_gateway_url), the connect URL's query and the shard (-1 before
// IDENTIFY or RESUME), so a script can prove a client resumed where it
// should.
type SentPayload struct {
	Conn     int             `json:"conn"`
	Listener string          `json:"listener"`
	Query    string          `json:"query"`
	Shard    int             `json:"shard"`
	Op       int             `json:"op"`
	D        json.RawMessage `json:"d,omitempty"`
}

// SentRequest is one REST request a client sent.
type SentRequest struct {
	Method string          `json:"method"`
	Path   string          `json:"path"`
	JSON   json.RawMessage `json:"json,omitempty"`
}

// Sent is the body of GET /_fake/sent.
type Sent struct {
	Gateway []SentPayload `json:"gateway"`
	REST    []SentRequest `json:"rest"`
}

func (f *Fake) handleSent(w http.ResponseWriter, r *http.Request) {
	s := Sent{Gateway: []SentPayload{}, REST: []SentRequest{}}
	query := map[int]string{}
	for _, c := range f.gw.Connections() {
		query[c.Num] = c.Query
	}
	for _, p := range f.gw.Received() {
		d := p.Data
		if !json.Valid(d) {
			d = nil
		}
		s.Gateway = append(s.Gateway, SentPayload{Conn: p.Conn, Listener: p.Listener.String(), Query: query[p.Conn], Shard: p.Shard, Op: p.Op, D: d})
	}
	for _, q := range f.rest.Requests() {
		s.REST = append(s.REST, SentRequest{Method: q.Method, Path: q.Path, JSON: q.JSON})
	}
	writeJSON(w, http.StatusOK, s)
}

// StartLimitRequest is the body of POST /_fake/session_start_limit: the
// fields of Get Gateway Bot's session_start_limit to change (reset_after in
// milliseconds). GET answers the limit as it stands.
type StartLimitRequest struct {
	Total      *int `json:"total"`
	Remaining  *int `json:"remaining"`
	ResetAfter *int `json:"reset_after"`
}

func (f *Fake) handleStartLimit(w http.ResponseWriter, r *http.Request) {
	gb := f.rest.GatewayBot()
	if r.Method == http.MethodPost {
		body, ok := readControl(w, r)
		if !ok {
			return
		}
		var req StartLimitRequest
		if err := decodeStrict(body, &req); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
			return
		}
		l := &gb.SessionStartLimit
		for _, set := range []struct {
			from *int
			to   *int
		}{{req.Total, &l.Total}, {req.Remaining, &l.Remaining}, {req.ResetAfter, &l.ResetAfter}} {
			if set.from != nil {
				if *set.from < 0 {
					writeJSON(w, http.StatusBadRequest, map[string]string{"error": ErrBadControl.Error() + ": negative value"})
					return
				}
				*set.to = *set.from
			}
		}
		f.rest.SetGatewayBot(gb)
		gb = f.rest.GatewayBot()
	}
	writeJSON(w, http.StatusOK, gb.SessionStartLimit)
}
