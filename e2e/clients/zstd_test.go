package clients

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestZstdStreamLibzstd proves ipcord fake's zstd-stream against libzstd,
// an implementation the fake does not use (it encodes with klauspost's):
// py/zstd_client.py reads the stream with one decompressobj for the
// connection, each message on its own, as a Python client does. A flood
// (Events, their compressed blocks made once) and a one-off dispatch must
// arrive whole, in order.
func TestZstdStreamLibzstd(t *testing.T) {
	t.Parallel()
	f := startFake(t)
	cmd := exec.Command("/usr/bin/python3", "py/zstd_client.py")
	cmd.Env = append(os.Environ(), "IPCORD_FAKE="+f.base, "DISCORD_TOKEN="+botToken)
	p := start(t, cmd)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	type payload struct {
		Op    int             `json:"op"`
		S     *int64          `json:"s"`
		T     string          `json:"t"`
		D     json.RawMessage `json:"d"`
		Error string          `json:"error"`
	}
	next := 0
	read := func(what string) payload {
		t.Helper()
		line, n, err := p.WaitLine(ctx, next, func(string) bool { return true })
		if err != nil {
			t.Fatalf("waiting for %s: %v", what, err)
		}
		next = n
		var pl payload
		if err := json.Unmarshal([]byte(line), &pl); err != nil || pl.Error != "" {
			t.Fatalf("%s: %s", what, line)
		}
		return pl
	}
	if pl := read("HELLO"); pl.Op != 10 {
		t.Fatalf("first payload op %d, want HELLO", pl.Op)
	}
	var seq int64
	for pl := read("READY"); pl.T != "READY"; pl = read("READY") {
	}
	for range f.info.Guilds { // the sample guilds, all on shard 0 of 1
		if pl := read("GUILD_CREATE"); pl.T != "GUILD_CREATE" || pl.S == nil {
			t.Fatalf("got %s, want GUILD_CREATE", pl.T)
		} else {
			seq = *pl.S
		}
	}
	// Text that repeats with small changes: the encoder uses repeat
	// offsets, which each message must find reset to the frame's initial
	// ones.
	var big strings.Builder
	for i := range 600 {
		fmt.Fprintf(&big, "member-%d-of-guild-%d;", i%7, i%3)
	}
	events := []map[string]any{
		{"t": "TYPING_START", "d": map[string]any{"channel_id": "1", "user_id": "2", "timestamp": 3}},
		{"t": "MESSAGE_CREATE", "d": map[string]any{"id": "5", "content": big.String()}},
		{"t": "X_EMPTY", "d": map[string]any{}},
		// A run at the start: a match at offset 1, which the encoder sends
		// as the repeat offset a frame starts with.
		{"t": "X_RUN", "d": map[string]any{"run": strings.Repeat("x", 64)}},
	}
	const n = 120
	if code, body := f.post("/_fake/flood", map[string]any{"shard": 0, "count": n, "events": events}); code != 200 {
		t.Fatalf("flood: %d %s", code, body)
	}
	if code, body := f.post("/_fake/dispatch", map[string]any{"t": "ONE_OFF", "d": map[string]any{"a": []int{1, 2}}, "shard": 0}); code != 200 {
		t.Fatalf("dispatch: %d %s", code, body)
	}
	want := func(i int) (string, any) {
		if i == n {
			return "ONE_OFF", map[string]any{"a": []any{1.0, 2.0}}
		}
		e := events[i%len(events)]
		var d any
		b, _ := json.Marshal(e["d"])
		json.Unmarshal(b, &d)
		return e["t"].(string), d
	}
	for i := 0; i <= n; i++ {
		pl := read("dispatch")
		for pl.Op == 11 { // heartbeat ACKs interleave
			pl = read("dispatch")
		}
		seq++
		name, d := want(i)
		var got any
		json.Unmarshal(pl.D, &got)
		if pl.S == nil || *pl.S != seq || pl.T != name || !reflect.DeepEqual(got, d) {
			t.Fatalf("dispatch %d: s=%v t=%s d=%.60s; want s=%d t=%s", i, pl.S, pl.T, pl.D, seq, name)
		}
	}
}
