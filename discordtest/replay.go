package discordtest

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
)

// RecordedEvent is one dispatch of a recording, as `ipcord record` writes
// it: one JSON object per line.
type RecordedEvent struct {
	Shard int             `json:"shard"`
	T     string          `json:"t"`
	D     json.RawMessage `json:"d"`
	// AtMS is when it arrived, in milliseconds since the recording began.
	AtMS int64 `json:"at_ms"`
}

// ErrBadRecording is returned for a recording line that is not a
// RecordedEvent.
var ErrBadRecording = errors.New("discordtest: bad recording")

// maxRecordedLine bounds one line of a recording (a GUILD_CREATE of a
// large guild is a few MB).
const maxRecordedLine = 64 << 20

// ReadRecording reads a recording (JSON lines); blank lines are skipped.
func ReadRecording(r io.Reader) ([]RecordedEvent, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, maxRecordedLine)
	var out []RecordedEvent
	for n := 1; sc.Scan(); n++ {
		line := sc.Bytes()
		if len(line) == 0 {
			continue
		}
		var ev RecordedEvent
		if err := json.Unmarshal(line, &ev); err != nil {
			return nil, fmt.Errorf("%w: line %d: %w", ErrBadRecording, n, err)
		}
		if ev.T == "" || ev.Shard < 0 || ev.AtMS < 0 || !json.Valid(ev.D) {
			return nil, fmt.Errorf("%w: line %d: needs t, d, a shard and at_ms of 0 or more", ErrBadRecording, n)
		}
		out = append(out, ev)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadRecording, err)
	}
	return out, nil
}

// sessionEvents are the dispatches that belong to the session they came
// in, not to what happened: a replay's clients get their own.
var sessionEvents = map[string]bool{"READY": true, "RESUMED": true}

// Replay dispatches a recording's events to the shards they were recorded
// on, with fresh sequence numbers, keeping their spacing divided by speed
// (0 or less: as fast as possible). It waits for each event's shard to
// have a session, and returns when all were sent or ctx ends. READY and
// RESUMED are skipped: each client gets its own.
func (g *Gateway) Replay(ctx context.Context, events []RecordedEvent, speed float64) error {
	start := time.Now()
	for _, ev := range events {
		if sessionEvents[ev.T] {
			continue
		}
		if speed > 0 {
			due := start.Add(time.Duration(float64(ev.AtMS) * float64(time.Millisecond) / speed))
			if d := time.Until(due); d > 0 {
				t := time.NewTimer(d)
				select {
				case <-t.C:
				case <-ctx.Done():
					t.Stop()
					return ctx.Err()
				}
			}
		}
		if _, err := g.WaitSession(ctx, ev.Shard); err != nil {
			return err
		}
		if _, err := g.Dispatch(ev.Shard, ev.T, ev.D); err != nil {
			return fmt.Errorf("discordtest: replay %s on shard %d: %w", ev.T, ev.Shard, err)
		}
	}
	return nil
}
