package demo

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/ipcord/ipcord/discordtest"
)

// maxFlood bounds the dispatches of one POST /_fake/flood.
const maxFlood = 100_000_000

// FloodRequest is the body of POST /_fake/flood: Count dispatches sent to
// a shard as fast as its bot reads them, Events in turn. It is how a load
// test feeds a bot more than it can take.
type FloodRequest struct {
	Shard  int `json:"shard"`
	Count  int `json:"count"`
	Events []struct {
		T string          `json:"t"`
		D json.RawMessage `json:"d"`
	} `json:"events"`
}

// DecodeFlood parses a POST /_fake/flood body into the request and its
// events, encoded once.
func DecodeFlood(body []byte) (FloodRequest, []*discordtest.Event, error) {
	var r FloodRequest
	if err := decodeStrict(body, &r); err != nil {
		return r, nil, err
	}
	if r.Shard < 0 || r.Count < 1 || r.Count > maxFlood {
		return r, nil, fmt.Errorf("%w: shard must be ≥ 0 and count 1 to %d", ErrBadControl, maxFlood)
	}
	if len(r.Events) == 0 {
		return r, nil, fmt.Errorf("%w: no events", ErrBadControl)
	}
	evs := make([]*discordtest.Event, len(r.Events))
	for i, e := range r.Events {
		d := e.D
		if len(d) == 0 {
			d = json.RawMessage("{}")
		}
		ev, err := discordtest.NewEvent(e.T, d)
		if err != nil {
			return r, nil, fmt.Errorf("%w: event %d: %w", ErrBadControl, i, err)
		}
		evs[i] = ev
	}
	return r, evs, nil
}

// handleFlood answers once every dispatch is queued, with the last
// sequence number and how long it took.
func (f *Fake) handleFlood(w http.ResponseWriter, r *http.Request) {
	body, ok := readControl(w, r)
	if !ok {
		return
	}
	req, evs, err := DecodeFlood(body)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
		return
	}
	start := time.Now()
	seq, err := f.gw.Flood(r.Context(), req.Shard, evs, req.Count)
	if err != nil {
		writeJSON(w, http.StatusConflict, map[string]string{"error": err.Error()})
		return
	}
	f.metrics.dispatches.Add(float64(req.Count))
	writeJSON(w, http.StatusOK, map[string]any{"shard": req.Shard, "count": req.Count, "last_seq": seq,
		"seconds": time.Since(start).Seconds()})
}
