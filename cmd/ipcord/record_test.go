package main

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/ipcord/ipcord/discordtest"
	"github.com/ipcord/ipcord/internal/leaktest"
)

var fakeURLs = regexp.MustCompile(`REST +(http://[0-9.:]+)/api/v10[^\n]*\n +gateway +(ws://[0-9.:]+)`)

// Record from one fake, replay into another: a bot of the second gets the
// same events, in the same order, with fresh sequence numbers, and no
// token of the first.
func TestRecordReplay(t *testing.T) {
	leaktest.Check(t)
	_, a := startCommand(t, fakeURLs, "fake", "--addr", "127.0.0.1:0", "--guilds", "2")
	file := filepath.Join(t.TempDir(), "rec.jsonl")
	e, _, errb := testEnv(nil)
	done := make(chan int, 1)
	go func() {
		done <- runMain(context.Background(), e, []string{"record", "--fake", a[1], "--out", file, "--count", "6"})
	}()

	// READY, two GUILD_CREATEs, then three of ours once the recorder is in.
	events := []string{
		`{"t":"FIRST","d":{"n":1},"shard":0}`,
		`{"t":"INTERACTION_CREATE","d":{"id":"9","token":"s3cret-token","type":2},"shard":0}`,
		`{"t":"THIRD","d":{"list":[1,2,3]},"shard":0}`,
	}
	deadline := time.Now().Add(15 * time.Second)
	for i := 0; i < len(events); {
		resp, err := http.Post(a[1]+"/_fake/dispatch", "application/json", strings.NewReader(events[i]))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		switch {
		case resp.StatusCode == 200:
			i++
		case time.Now().After(deadline):
			t.Fatalf("the recorder never connected: dispatch %d", resp.StatusCode)
		default:
			time.Sleep(10 * time.Millisecond)
		}
	}
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("record exited %d: %s", code, errb.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("record did not stop after --count 6")
	}
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), "s3cret") {
		t.Fatalf("a token reached the recording:\n%s", raw)
	}
	rec, err := discordtest.ReadRecording(strings.NewReader(string(raw)))
	if err != nil || len(rec) != 6 {
		t.Fatalf("recording: %d events, %v\n%s", len(rec), err, raw)
	}
	var want []string
	for _, ev := range rec[1:] { // READY is the recorder's own
		want = append(want, ev.T+" "+string(ev.D))
	}

	_, b := startCommand(t, fakeURLs, "fake", "--addr", "127.0.0.1:0", "--guilds", "0", "--replay", file, "--speed", "0x")
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, b[2]+"?v=10&encoding=json", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	ws.Write(ctx, websocket.MessageText, []byte(`{"op":2,"d":{"token":"x","intents":1,"properties":{"os":"linux","browser":"x","device":"x"}}}`))
	var got []string
	for seq := int64(2); len(got) < len(want); {
		_, msg, err := ws.Read(ctx)
		if err != nil {
			t.Fatalf("after %d events: %v", len(got), err)
		}
		var p struct {
			Op int
			S  int64
			T  string
			D  json.RawMessage
		}
		json.Unmarshal(msg, &p)
		if p.Op != 0 || p.T == "READY" {
			continue
		}
		if p.S != seq {
			t.Fatalf("%s has seq %d, want %d", p.T, p.S, seq)
		}
		seq++
		got = append(got, p.T+" "+string(p.D))
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("replayed:\n%s\nrecorded:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestParseSpeed(t *testing.T) {
	for in, want := range map[string]float64{"10x": 10, "0.5x": 0.5, "1": 1, "0x": 0} {
		if got, err := parseSpeed(in); err != nil || got != want {
			t.Errorf("parseSpeed(%q) = %v, %v", in, got, err)
		}
	}
	for _, in := range []string{"", "fast", "-1x"} {
		if _, err := parseSpeed(in); err == nil {
			t.Errorf("parseSpeed(%q) accepted", in)
		}
	}
}
