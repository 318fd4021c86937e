package discordtest

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"testing"
	"time"
)

// FuzzReadRequest parses arbitrary bodies as the fake server does: JSON or
// multipart, errors allowed, panics not.
func FuzzReadRequest(f *testing.F) {
	f.Add("application/json", []byte(`{"content":"x"}`))
	f.Add("multipart/form-data; boundary=b", []byte("--b\r\nContent-Disposition: form-data; name=\"payload_json\"\r\n\r\n{}\r\n--b\r\nContent-Disposition: form-data; name=\"files[0]\"; filename=\"a\"\r\n\r\nhi\r\n--b--\r\n"))
	f.Add("multipart/form-data", []byte("--"))
	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		hr, err := http.NewRequest("POST", "http://x/api/v10/webhooks/1/t", bytes.NewReader(body))
		if err != nil {
			return
		}
		hr.Header.Set("Content-Type", contentType)
		r, err := readRequest(hr, "/webhooks/1/t", 1<<20)
		if err == nil && r.Multipart() {
			for _, f := range r.Files {
				if f.Field == "" {
					t.Fatal("file without a field name")
				}
			}
		}
	})
}

// FuzzAddGuild feeds arbitrary sample guilds to the world: a guild it
// accepts must come out as a GUILD_CREATE with its id, @everyone role and
// the bot as a member; one it refuses must be refused with ErrBadObject.
func FuzzAddGuild(f *testing.F) {
	f.Add([]byte(`{"id":"42","name":"g","channels":[{"id":"43","type":0}],"roles":[{"id":"44"}],"members":[{"user":{"id":"45","username":"u"}}]}`))
	f.Add([]byte(`{"id":42,"members":[{"user":{}}]}`))
	f.Add([]byte(`{"id":"1","roles":[{"id":"1","name":"everyone!"}],"unavailable":true}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		w := newWorld(7, "bot")
		id, err := w.addGuild(raw, time.Unix(0, 0))
		if err != nil {
			if !errors.Is(err, ErrBadObject) {
				t.Fatalf("error %v is not ErrBadObject", err)
			}
			return
		}
		gc := w.guildCreate(w.guilds[id])
		b, err := json.Marshal(gc)
		if err != nil {
			t.Fatalf("GUILD_CREATE does not marshal: %v", err)
		}
		var back struct {
			ID      string `json:"id"`
			Roles   []struct{ ID string }
			Members []struct{ User struct{ ID string } }
		}
		if err := json.Unmarshal(b, &back); err != nil || back.ID != idString(id) || len(back.Roles) == 0 {
			t.Fatalf("GUILD_CREATE %s: %v", b, err)
		}
		if w.guilds[id].members[7] == nil {
			t.Fatal("the bot is not a member")
		}
	})
}

// FuzzReadRecording reads arbitrary recordings: each event it returns is
// replayable (a name, valid JSON data, a shard and time of 0 or more); a
// refusal is ErrBadRecording.
func FuzzReadRecording(f *testing.F) {
	f.Add([]byte(`{"shard":0,"t":"MESSAGE_CREATE","d":{"id":"1"},"at_ms":5}` + "\n\n" + `{"shard":1,"t":"X","d":null,"at_ms":0}`))
	f.Add([]byte(`{"shard":-1,"t":"X","d":{}}`))
	f.Add([]byte("{\"t\":\"X\",\"d\":[1,\n"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		evs, err := ReadRecording(bytes.NewReader(raw))
		if err != nil {
			if !errors.Is(err, ErrBadRecording) {
				t.Fatalf("error %v is not ErrBadRecording", err)
			}
			return
		}
		for _, ev := range evs {
			if ev.T == "" || ev.Shard < 0 || ev.AtMS < 0 || !json.Valid(ev.D) {
				t.Fatalf("unreplayable event %+v", ev)
			}
		}
	})
}
