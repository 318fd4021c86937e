package demo_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/ipcord/ipcord/cmd/ipcord/internal/demo"
)

// FuzzDecodeDispatch checks that any body either decodes into a dispatch
// with an event name and JSON data, or fails with ErrBadControl.
func FuzzDecodeDispatch(f *testing.F) {
	f.Add([]byte(`{"t":"MESSAGE_CREATE","d":{"content":"hi","guild_id":"4398046511105"}}`))
	f.Add([]byte(`{"t":"X","shard":1}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		d, err := demo.DecodeDispatch(body)
		if err != nil {
			if !errors.Is(err, demo.ErrBadControl) {
				t.Fatalf("error %v is not ErrBadControl", err)
			}
			return
		}
		if d.T == "" || !json.Valid(d.D) || (d.Shard != nil && *d.Shard < 0) {
			t.Fatalf("accepted %q as %+v", body, d)
		}
	})
}

// FuzzDecodeFault checks that any body either decodes into a known fault
// with sane parameters, or fails with ErrBadControl.
func FuzzDecodeFault(f *testing.F) {
	f.Add([]byte(`{"name":"reconnect","shard":0}`))
	f.Add([]byte(`{"name":"rest","route":"POST /channels/*/messages","status":429,"retry_after_ms":50}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := demo.DecodeFault(body)
		if err != nil {
			if !errors.Is(err, demo.ErrBadControl) {
				t.Fatalf("error %v is not ErrBadControl", err)
			}
			return
		}
		if r.Name == "" || r.Shard < 0 || r.MS < 0 || r.Times < 0 {
			t.Fatalf("accepted %q as %+v", body, r)
		}
	})
}

// FuzzDecodeMessage checks that any body either decodes into a message
// with a channel, an author and 1 to 2000 characters of UTF-8, or fails
// with ErrBadControl.
func FuzzDecodeMessage(f *testing.F) {
	f.Add([]byte(`{"channel_id":"4398046511106","content":"!ping"}`))
	f.Add([]byte(`{"channel_id":4398046511106,"author_id":"16785408","content":"hi"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		m, err := demo.DecodeMessage(body)
		if err != nil {
			if !errors.Is(err, demo.ErrBadControl) {
				t.Fatalf("error %v is not ErrBadControl", err)
			}
			return
		}
		if n := utf8.RuneCountInString(m.Content); m.ChannelID == 0 || m.AuthorID == 0 || n == 0 || n > 2000 || !utf8.ValidString(m.Content) {
			t.Fatalf("accepted %q as %+v", body, m)
		}
	})
}

// FuzzDecodeCommand checks that any body either decodes into a command
// with a channel, a user and a name without spaces, or fails with
// ErrBadControl.
func FuzzDecodeCommand(f *testing.F) {
	f.Add([]byte(`{"channel_id":"4398046511106","name":"ping"}`))
	f.Add([]byte(`{"channel_id":"4398046511106","user_id":"16785408","name":"a b"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		c, err := demo.DecodeCommand(body)
		if err != nil {
			if !errors.Is(err, demo.ErrBadControl) {
				t.Fatalf("error %v is not ErrBadControl", err)
			}
			return
		}
		if n := utf8.RuneCountInString(c.Name); c.ChannelID == 0 || c.UserID == 0 || n == 0 || n > 32 || strings.ContainsAny(c.Name, " /") {
			t.Fatalf("accepted %q as %+v", body, c)
		}
	})
}

// FuzzHandleEvent feeds the bot arbitrary gateway events: whatever the
// data, the bot neither panics nor loses count of what it received.
func FuzzHandleEvent(f *testing.F) {
	for _, s := range []struct{ name, data string }{
		{"GUILD_CREATE", `{"id":"4398046511105","name":"g","member_count":3,"channels":[{"id":"4398046511106","type":0,"name":"general"}]}`},
		{"MESSAGE_CREATE", `{"id":"1","channel_id":"4398046511106","guild_id":"4398046511105","author":{"id":"5","username":"a"},"content":"!ping"}`},
		{"INTERACTION_CREATE", `{"id":"2","type":2,"token":"t","data":{"name":"ping","type":1}}`},
		{"GUILD_MEMBER_REMOVE", `{"guild_id":"4398046511105"}`},
		{"GUILD_DELETE", `{"id":"4398046511105"}`},
		{"READY", `{"user":{"id":"1000000000000000001"}}`},
	} {
		f.Add(s.name, []byte(s.data))
	}
	fk, err := demo.StartFake(demo.FakeConfig{Guilds: -1})
	if err != nil {
		f.Fatal(err)
	}
	defer fk.Close()
	cl := restFor(f, fk)
	cl.MaxRetries = -1
	f.Fuzz(func(t *testing.T, name string, data []byte) {
		b, err := demo.NewBot(demo.BotConfig{REST: cl})
		if err != nil {
			t.Fatal(err)
		}
		b.HandleEvent(context.Background(), demo.Event{Name: name, Data: data})
		b.HandleEvent(context.Background(), demo.Event{Name: name, Data: data})
		if s := b.Stats(); s.EventsTotal != 2 && !(s.EventsTotal == 0 && len(b.Recent(0)) == 0) {
			// Events the bot cannot decode are skipped whole or counted;
			// never counted once.
			t.Fatalf("%s %q counted %d times", name, data, s.EventsTotal)
		}
		if s := b.Stats(); s.Members < 0 || s.Guilds < 0 {
			t.Fatalf("negative counts %+v", s)
		}
	})
}
