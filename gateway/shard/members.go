package shard

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ipcord/ipcord/gateway"
)

// Members is what Request Guild Members gathered: every
// GUILD_MEMBERS_CHUNK answering one request, put together.
type Members struct {
	GuildID   string
	Members   []json.RawMessage // member objects, each with a user
	Presences []json.RawMessage // when requested
	NotFound  []string          // user ids asked for that are not members
}

// RequestMembers sends Request Guild Members (op 8) and gathers the
// GUILD_MEMBERS_CHUNK events that answer it, matched by nonce (one is
// made up when req.Nonce is empty). A RATE_LIMITED answer is returned as a
// *RateLimitedError with Discord's retry_after. The chunks are handed to
// the handler as well.
func (s *Shard) RequestMembers(ctx context.Context, req gateway.RequestGuildMembers) (*Members, error) {
	if req.Nonce == "" {
		var b [16]byte
		rand.Read(b[:])
		req.Nonce = hex.EncodeToString(b[:])
	}
	if len(req.Nonce) > 32 {
		return nil, fmt.Errorf("%w: nonce longer than 32 bytes", ErrConfig)
	}
	w := s.members.add(req.Nonce)
	defer s.members.remove(req.Nonce)
	if err := s.Send(ctx, gateway.OpRequestGuildMembers, req); err != nil {
		return nil, err
	}
	res := &Members{GuildID: req.GuildID}
	got, chunks := 0, 0
	for {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case m := <-w:
			if m.err != nil {
				return nil, m.err
			}
			n, err := res.merge(m.data)
			if err != nil {
				return nil, err
			}
			chunks = n
			got++
			if got >= chunks {
				return res, nil
			}
		}
	}
}

// merge adds one GUILD_MEMBERS_CHUNK's d to m and returns its chunk_count.
func (m *Members) merge(data []byte) (chunkCount int, err error) {
	var c struct {
		Members    []json.RawMessage `json:"members"`
		Presences  []json.RawMessage `json:"presences"`
		NotFound   []json.RawMessage `json:"not_found"`
		ChunkCount int               `json:"chunk_count"`
	}
	if err := json.Unmarshal(data, &c); err != nil {
		return 0, fmt.Errorf("%w: GUILD_MEMBERS_CHUNK: %v", gateway.ErrDecode, err)
	}
	m.Members = append(m.Members, c.Members...)
	m.Presences = append(m.Presences, c.Presences...)
	for _, id := range c.NotFound {
		// Snowflakes are strings; accept numbers too rather than fail.
		var sid string
		if json.Unmarshal(id, &sid) != nil {
			sid = string(id)
		}
		m.NotFound = append(m.NotFound, sid)
	}
	return c.ChunkCount, nil
}

// memberMsg is a chunk or a rate limit for one request.
type memberMsg struct {
	data json.RawMessage
	err  error
}

// members routes GUILD_MEMBERS_CHUNK and RATE_LIMITED dispatches to the
// RequestMembers calls waiting for them.
type members struct {
	n       atomic.Int32 // waiters, read by the loop without the lock
	mu      sync.Mutex
	waiters map[string]chan memberMsg
}

// memberChunks bounds the chunks buffered per request; Discord sends
// 1,000 members per chunk, so this is 256,000 members before the loop
// would drop one (a caller that stops reading has given up).
const memberChunks = 256

func (m *members) init() { m.waiters = map[string]chan memberMsg{} }

func (m *members) add(nonce string) chan memberMsg {
	ch := make(chan memberMsg, memberChunks)
	m.mu.Lock()
	m.waiters[nonce] = ch
	m.mu.Unlock()
	m.n.Add(1)
	return ch
}

func (m *members) remove(nonce string) {
	m.mu.Lock()
	delete(m.waiters, nonce)
	m.mu.Unlock()
	m.n.Add(-1)
}

// observe looks at a dispatch on the loop; only when a request waits does
// it decode anything.
func (m *members) observe(d *gateway.Dispatch) {
	if m.n.Load() == 0 || (d.Name != "GUILD_MEMBERS_CHUNK" && d.Name != "RATE_LIMITED") {
		return
	}
	nonce, msg, ok := parseMemberDispatch(d.Name, d.Data)
	if !ok {
		return
	}
	m.mu.Lock()
	ch := m.waiters[nonce]
	m.mu.Unlock()
	if ch != nil {
		select {
		case ch <- msg:
		default:
		}
	}
}

// parseMemberDispatch reads the nonce of a GUILD_MEMBERS_CHUNK (with a
// copy of its data) or of a RATE_LIMITED dispatch (as a
// *RateLimitedError). ok is false for anything else or undecodable data.
func parseMemberDispatch(name string, data []byte) (nonce string, msg memberMsg, ok bool) {
	var v struct {
		Nonce      string  `json:"nonce"`
		Opcode     int     `json:"opcode"`
		RetryAfter float64 `json:"retry_after"`
		Meta       struct {
			GuildID string `json:"guild_id"`
			Nonce   string `json:"nonce"`
		} `json:"meta"`
	}
	if (name != "GUILD_MEMBERS_CHUNK" && name != "RATE_LIMITED") || json.Unmarshal(data, &v) != nil {
		return "", memberMsg{}, false
	}
	if name == "RATE_LIMITED" {
		retry := time.Duration(0)
		if v.RetryAfter > 0 && v.RetryAfter < 1e6 {
			retry = time.Duration(v.RetryAfter * float64(time.Second))
		}
		return v.Meta.Nonce, memberMsg{err: &RateLimitedError{
			Opcode: gateway.Opcode(v.Opcode), RetryAfter: retry, GuildID: v.Meta.GuildID,
		}}, true
	}
	return v.Nonce, memberMsg{data: append(json.RawMessage(nil), data...)}, true
}

// failAll ends every waiting request with err.
func (m *members) failAll(err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, ch := range m.waiters {
		select {
		case ch <- memberMsg{err: err}:
		default:
		}
	}
}
