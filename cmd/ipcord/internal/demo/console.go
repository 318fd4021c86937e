package demo

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// The console's actions on fake Discord: they go to its control API over
// HTTP, as a script would send them.

// say has a sample user type content in a channel, so the bot answers it
// as it answers people (its own messages it ignores): "/name" runs the
// slash command name, anything else is a message.
func (d *Dashboard) say(w http.ResponseWriter, r *http.Request) {
	var a SendMessageArgs
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10)).Decode(&a); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "body is not a JSON object: " + err.Error()})
		return
	}
	if name, ok := strings.CutPrefix(strings.TrimSpace(a.Content), "/"); ok {
		body, _ := json.Marshal(map[string]string{"channel_id": a.ChannelID, "name": name})
		status, out := d.control("/_fake/command", body)
		relay(w, status, out)
		return
	}
	body, _ := json.Marshal(map[string]string{"channel_id": a.ChannelID, "content": a.Content})
	status, out := d.control("/_fake/message", body)
	relay(w, status, out)
}

// fault injects one of Faults on a shard.
func (d *Dashboard) fault(w http.ResponseWriter, r *http.Request) {
	var a struct {
		Name  string `json:"name"`
		Shard int    `json:"shard"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4<<10)).Decode(&a); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "body is not a JSON object: " + err.Error()})
		return
	}
	reqs, ok := consoleFaults[a.Name]
	if !ok || a.Shard < 0 {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": fmt.Sprintf("%v: fault %q on shard %d; the console injects %v", ErrBadControl, a.Name, a.Shard, Faults)})
		return
	}
	var status int
	var out []byte
	for _, fr := range reqs {
		fr.Shard = a.Shard
		body, _ := json.Marshal(fr)
		if status, out = d.control("/_fake/fault", body); status != http.StatusOK {
			break
		}
	}
	relay(w, status, out)
}

// control POSTs body to the fake's control API at path and returns the
// answer: 501 without a fake, 502 when it cannot be reached.
func (d *Dashboard) control(path string, body []byte) (int, []byte) {
	fail := func(status int, msg string) (int, []byte) {
		b, _ := json.Marshal(map[string]string{"error": msg})
		return status, b
	}
	if d.Fake == "" {
		return fail(http.StatusNotImplemented, "this dashboard runs against real Discord: no fake to control")
	}
	req, err := http.NewRequest(http.MethodPost, d.Fake+path, bytes.NewReader(body))
	if err != nil {
		return fail(http.StatusInternalServerError, err.Error())
	}
	req.Header.Set("Content-Type", "application/json")
	if d.FakeToken != "" {
		req.Header.Set("Authorization", "Bearer "+d.FakeToken)
	}
	c := d.Client
	if c == nil {
		c = &http.Client{Timeout: 10 * time.Second}
	}
	resp, err := c.Do(req)
	if err != nil {
		return fail(http.StatusBadGateway, "fake Discord unreachable: "+err.Error())
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, out
}

// relay answers with what the fake answered.
func relay(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(body)
}
