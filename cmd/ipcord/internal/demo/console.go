package demo

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
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
		d.control(w, "/_fake/command", body)
		return
	}
	body, _ := json.Marshal(map[string]string{"channel_id": a.ChannelID, "content": a.Content})
	d.control(w, "/_fake/message", body)
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
	if !slices.Contains(Faults, a.Name) || a.Shard < 0 {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": fmt.Sprintf("%v: fault %q on shard %d; the console injects %v", ErrBadControl, a.Name, a.Shard, Faults)})
		return
	}
	body, _ := json.Marshal(FaultRequest{Name: a.Name, Shard: a.Shard})
	d.control(w, "/_fake/fault", body)
}

// control POSTs body to the fake's control API at path and relays the
// answer: 501 without a fake, 502 when it cannot be reached.
func (d *Dashboard) control(w http.ResponseWriter, path string, body []byte) {
	if d.Fake == "" {
		writeJSON(w, http.StatusNotImplemented, map[string]string{"error": "this dashboard runs against real Discord: no fake to control"})
		return
	}
	req, err := http.NewRequest(http.MethodPost, d.Fake+path, bytes.NewReader(body))
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
		return
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
		writeJSON(w, http.StatusBadGateway, map[string]string{"error": "fake Discord unreachable: " + err.Error()})
		return
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(resp.StatusCode)
	w.Write(out)
}
