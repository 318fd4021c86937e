package gateway_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"net/url"
	"os"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ipcord/ipcord/gateway"
	"github.com/ipcord/ipcord/internal/wsproto"
)

var compressions = []gateway.Compression{gateway.CompressNone, gateway.CompressZlib, gateway.CompressZstd}

func TestConnectURL(t *testing.T) {
	for _, tc := range []struct {
		base string
		comp gateway.Compression
		want string
	}{
		{"", gateway.CompressNone, "wss://gateway.discord.gg/?v=10&encoding=json"},
		{"wss://gateway.discord.gg", gateway.CompressZlib, "wss://gateway.discord.gg/?v=10&encoding=json&compress=zlib-stream"},
		{"wss://gateway-us-east1-b.discord.gg/?v=9&encoding=etf", gateway.CompressZstd, "wss://gateway-us-east1-b.discord.gg/?v=10&encoding=json&compress=zstd-stream"},
		{"ws://127.0.0.1:8080/gw", gateway.CompressNone, "ws://127.0.0.1:8080/gw?v=10&encoding=json"},
	} {
		got, err := gateway.ConnectURL(tc.base, tc.comp)
		if err != nil || got != tc.want {
			t.Errorf("ConnectURL(%q, %v) = %q, %v; want %q", tc.base, tc.comp, got, err, tc.want)
		}
	}
	if _, err := gateway.ConnectURL("https://gateway.discord.gg", gateway.CompressNone); err == nil {
		t.Error("https URL accepted")
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	for name, cfg := range map[string]gateway.Config{
		"no token":    {},
		"shard range": {Token: "t", ShardID: 2, ShardCount: 2},
		"bad url":     {Token: "t", URL: "http://x"},
		"compression": {Token: "t", Compression: 9},
	} {
		if _, err := gateway.New(cfg); !errors.Is(err, gateway.ErrState) {
			t.Errorf("%s: err = %v, want ErrState", name, err)
		}
	}
}

func TestIdentifyAndDispatch(t *testing.T) {
	for _, comp := range compressions {
		t.Run(comp.String(), func(t *testing.T) {
			since := int64(5)
			c := newConn(t, gateway.Config{
				Token: "secret", Intents: gateway.IntentGuilds | gateway.IntentGuildMessages,
				ShardID: 1, ShardCount: 4, Compression: comp, LargeThreshold: 250,
				Presence: &gateway.Presence{Status: "idle", Since: &since, Activities: []json.RawMessage{}},
			})
			d, err := c.Connect()
			if err != nil {
				t.Fatal(err)
			}
			if d.Resume {
				t.Fatal("first connect resumes")
			}
			u, _ := url.Parse(d.URL)
			q := u.Query()
			if q.Get("v") != "10" || q.Get("encoding") != "json" || q.Get("compress") != map[gateway.Compression]string{gateway.CompressZlib: "zlib-stream", gateway.CompressZstd: "zstd-stream"}[comp] {
				t.Fatalf("URL %s", d.URL)
			}
			if !bytes.HasPrefix(d.Request, []byte("GET /?v=10&encoding=json")) {
				t.Fatalf("request %q", d.Request)
			}
			p := newPeer(t, comp)
			feed(t, c, p.accept(d))
			if _, ok := c.NextDeadline(); ok {
				t.Fatal("deadline before HELLO")
			}
			if err := c.Identify(); !errors.Is(err, gateway.ErrState) {
				t.Fatalf("Identify before HELLO: %v", err)
			}
			evs := feed(t, c, p.frame(helloMsg))
			if h, ok := evs[0].(*gateway.Hello); !ok || h.Interval != 41250*time.Millisecond || h.Resuming {
				t.Fatalf("got %#v", evs[0])
			}
			if err := c.Identify(); err != nil {
				t.Fatal(err)
			}
			if err := c.Identify(); !errors.Is(err, gateway.ErrState) {
				t.Fatalf("second Identify: %v", err)
			}
			ps := p.sentPayloads(c.Output())
			if len(ps) != 1 || ps[0].Op != gateway.OpIdentify {
				t.Fatalf("sent %v", ps)
			}
			var id map[string]any
			json.Unmarshal(ps[0].D, &id)
			want := map[string]any{
				"token":           "secret",
				"properties":      map[string]any{"os": runtime.GOOS, "browser": "ipcord", "device": "ipcord"},
				"large_threshold": 250.0,
				"shard":           []any{1.0, 4.0},
				"presence":        map[string]any{"since": 5.0, "activities": []any{}, "status": "idle", "afk": false},
				"intents":         float64(gateway.IntentGuilds | gateway.IntentGuildMessages),
			}
			if !reflect.DeepEqual(id, want) {
				t.Fatalf("IDENTIFY d = %v\nwant %v", id, want)
			}

			evs = feed(t, c, p.frame(readyMsg))
			r, ok := evs[0].(*gateway.Ready)
			if !ok || r.SessionID != "sess-1" || r.ResumeURL != "wss://resume.example:8443" || r.Dispatch.Seq != 1 || r.Dispatch.Name != "READY" {
				t.Fatalf("got %#v", evs[0])
			}
			evs = feed(t, c, append(p.frame(`{"t":"MESSAGE_CREATE","s":2,"op":0,"d":{"content":"hi"}}`),
				p.frame(`{"d":{"x":[1,2]},"op":0,"s":3,"t":"TYPING_START"}`)...))
			if len(evs) != 2 {
				t.Fatalf("events %v", evs)
			}
			d1, d2 := evs[0].(*gateway.Dispatch), evs[1].(*gateway.Dispatch)
			if d1.Seq != 2 || d1.Name != "MESSAGE_CREATE" || string(d1.Data) != `{"content":"hi"}` {
				t.Fatalf("dispatch %+v", d1)
			}
			if d2.Seq != 3 || d2.Name != "TYPING_START" || string(d2.Data) != `{"x":[1,2]}` {
				t.Fatalf("dispatch %+v", d2)
			}
			if s := c.Session(); s != (gateway.Session{ID: "sess-1", Seq: 3, ResumeURL: "wss://resume.example:8443"}) {
				t.Fatalf("session %+v", s)
			}
		})
	}
}

// sessionStream is the server side of a whole session as bytes: upgrade
// reply, HELLO, READY, the recorded session of testdata/session.jsonl.
func sessionStream(t *testing.T, c *gateway.Conn, comp gateway.Compression) []byte {
	d, err := c.Connect()
	if err != nil {
		t.Fatal(err)
	}
	p := newPeer(t, comp)
	b := p.accept(d)
	for _, m := range gateway.LoadSessionForTest(t) {
		b = append(b, p.frame(string(m))...)
	}
	// A ping between messages, then a close.
	b = wsproto.AppendFrame(b, wsproto.Server, wsproto.OpPing, true, false, [4]byte{}, []byte("p"))
	b = append(b, p.frame(`{"t":"TYPING_START","s":999,"op":0,"d":{}}`)...)
	b = wsproto.AppendClose(b, wsproto.Server, [4]byte{}, 4000, "bye")
	return b
}

func summarize(evs []gateway.Event) []string {
	var s []string
	for _, ev := range evs {
		switch e := ev.(type) {
		case *gateway.Dispatch:
			s = append(s, e.Name+"#"+strconv.FormatInt(e.Seq, 10)+":"+string(e.Data))
		case *gateway.Ready:
			s = append(s, "READY "+e.SessionID)
		default:
			b, _ := json.Marshal(ev)
			s = append(s, reflect.TypeOf(ev).String()+string(b))
		}
	}
	return s
}

// TestReplaySplits replays a recorded session in one piece, one byte at a
// time and in random splits: the events must be the same.
func TestReplaySplits(t *testing.T) {
	for _, comp := range compressions {
		t.Run(comp.String(), func(t *testing.T) {
			var want []string
			rng := rand.New(rand.NewPCG(7, uint64(comp)))
			for run := 0; run < 5; run++ {
				c := newConn(t, gateway.Config{Compression: comp})
				stream := sessionStream(t, c, comp)
				var evs []gateway.Event
				for len(stream) > 0 {
					n := len(stream)
					switch run {
					case 0:
					case 1:
						n = 1
					default:
						n = 1 + rng.IntN(min(len(stream), 3000))
					}
					c.Receive(stream[:n])
					stream = stream[n:]
					got, err := drainIdentify(t, c)
					if err != nil && !errors.Is(err, gateway.ErrClosed) {
						t.Fatalf("run %d: %v", run, err)
					}
					evs = append(evs, got...)
				}
				s := summarize(evs)
				if run == 0 {
					want = s
					if len(want) != len(gateway.LoadSessionForTest(t))+2 {
						t.Fatalf("%d events", len(want))
					}
					last := evs[len(evs)-1].(*gateway.Closed)
					if last.Code != 4000 || last.Reason != "bye" || last.Action != gateway.ActionResume {
						t.Fatalf("closed %+v", last)
					}
					continue
				}
				if !reflect.DeepEqual(s, want) {
					t.Fatalf("run %d: events differ from the unsplit run", run)
				}
			}
		})
	}
}

// A server closing with 1000 or 1001 (a gateway restart) must not be
// answered with the same code: a client close of 1000/1001 ends the session.
func TestServerCloseAnsweredKeepingSession(t *testing.T) {
	for _, code := range []wsproto.CloseCode{1000, 1001} {
		c := newConn(t, gateway.Config{})
		p, _ := open(t, c, gateway.CompressNone)
		identify(t, c, p)
		p.sent(c.Output())
		evs := feed(t, c, wsproto.AppendClose(nil, wsproto.Server, [4]byte{}, code, "restarting"))
		if cl := evs[0].(*gateway.Closed); cl.Action != gateway.ActionResume {
			t.Fatalf("%d: action %v, want resume", code, cl.Action)
		}
		msgs := p.sent(c.Output())
		if len(msgs) != 1 || msgs[0].Op != wsproto.OpClose || msgs[0].CloseCode != 4000 {
			t.Fatalf("%d: close reply %+v, want 4000", code, msgs)
		}
		if c.Session().ID == "" {
			t.Fatalf("%d: session dropped", code)
		}
	}
}

func TestPingPongAndCloseReply(t *testing.T) {
	c := newConn(t, gateway.Config{})
	p, _ := open(t, c, gateway.CompressNone)
	feed(t, c, wsproto.AppendFrame(nil, wsproto.Server, wsproto.OpPing, true, false, [4]byte{}, []byte("abc")))
	msgs := p.sent(c.Output())
	if len(msgs) != 1 || msgs[0].Op != wsproto.OpPong || string(msgs[0].Payload) != "abc" {
		t.Fatalf("sent %+v", msgs)
	}
	evs := feed(t, c, wsproto.AppendClose(nil, wsproto.Server, [4]byte{}, 4008, "slow down"))
	cl := evs[0].(*gateway.Closed)
	if cl.Code != gateway.CloseRateLimited || cl.Reason != "slow down" {
		t.Fatalf("closed %+v", cl)
	}
	msgs = p.sent(c.Output())
	if len(msgs) != 1 || msgs[0].Op != wsproto.OpClose || msgs[0].CloseCode != 4008 {
		t.Fatalf("close reply %+v", msgs)
	}
	if _, err := c.Next(); !errors.Is(err, gateway.ErrClosed) {
		t.Fatalf("Next after close: %v", err)
	}
	if err := c.Send(gateway.OpPresenceUpdate, nil); !errors.Is(err, gateway.ErrClosed) {
		t.Fatalf("Send after close: %v", err)
	}
}

func TestCloseCodes(t *testing.T) {
	for _, tc := range []struct {
		code   gateway.CloseCode
		action gateway.Action
	}{
		{1000, gateway.ActionResume},
		{1001, gateway.ActionResume},
		{1006, gateway.ActionResume},
		{4000, gateway.ActionResume},
		{4001, gateway.ActionResume},
		{4002, gateway.ActionResume},
		{4003, gateway.ActionResume},
		{4004, gateway.ActionStop},
		{4005, gateway.ActionResume},
		{4007, gateway.ActionIdentify},
		{4008, gateway.ActionResume},
		{4009, gateway.ActionIdentify},
		{4010, gateway.ActionStop},
		{4011, gateway.ActionStop},
		{4012, gateway.ActionStop},
		{4013, gateway.ActionStop},
		{4014, gateway.ActionStop},
		{4015, gateway.ActionResume},
		{4999, gateway.ActionResume},
	} {
		t.Run(tc.code.String(), func(t *testing.T) {
			if got := gateway.ActionFor(tc.code); got != tc.action {
				t.Fatalf("ActionFor = %v, want %v", got, tc.action)
			}
			if tc.code == 1006 {
				return // never on the wire: it means the TCP connection dropped
			}
			c := newConn(t, gateway.Config{})
			p, _ := open(t, c, gateway.CompressNone)
			identify(t, c, p)
			evs := feed(t, c, wsproto.AppendClose(nil, wsproto.Server, [4]byte{}, wsproto.CloseCode(tc.code), ""))
			cl := evs[0].(*gateway.Closed)
			if cl.Action != tc.action {
				t.Fatalf("Closed.Action = %v, want %v", cl.Action, tc.action)
			}
			kept := c.Session().Valid()
			if kept != (tc.action != gateway.ActionIdentify) {
				t.Fatalf("session kept = %v after %v", kept, tc.code)
			}
			d, err := c.Connect()
			if err != nil {
				t.Fatal(err)
			}
			if d.Resume != kept {
				t.Fatalf("Dial.Resume = %v", d.Resume)
			}
		})
	}
}

func TestResume(t *testing.T) {
	for _, ignore := range []bool{false, true} {
		c := newConn(t, gateway.Config{Token: "tk", URL: "wss://gw.example", Compression: gateway.CompressZstd, IgnoreResumeURL: ignore})
		p, _ := open(t, c, gateway.CompressZstd)
		identify(t, c, p)
		feed(t, c, p.frame(`{"t":"MESSAGE_CREATE","s":42,"op":0,"d":{}}`))
		feed(t, c, p.frame(`{"t":null,"s":null,"op":7,"d":null}`))
		c.Close(4000, "reconnect")
		if msgs := p.sent(c.Output()); len(msgs) != 1 || msgs[0].CloseCode != 4000 {
			t.Fatalf("close %+v", msgs)
		}

		d, err := c.Connect()
		if err != nil {
			t.Fatal(err)
		}
		wantHost := "resume.example:8443"
		if ignore {
			wantHost = "gw.example"
		}
		if u, _ := url.Parse(d.URL); !d.Resume || u.Host != wantHost || u.Query().Get("compress") != "zstd-stream" || u.Query().Get("v") != "10" {
			t.Fatalf("ignore=%v: dial %+v", ignore, d)
		}
		p = newPeer(t, gateway.CompressZstd)
		feed(t, c, p.accept(d))
		evs := feed(t, c, p.frame(helloMsg))
		if h := evs[0].(*gateway.Hello); !h.Resuming {
			t.Fatal("not resuming")
		}
		ps := p.sentPayloads(c.Output())
		if len(ps) != 1 || ps[0].Op != gateway.OpResume || string(ps[0].D) != `{"token":"tk","session_id":"sess-1","seq":42}` {
			t.Fatalf("sent %+v", ps)
		}
		if err := c.Identify(); !errors.Is(err, gateway.ErrState) {
			t.Fatalf("Identify after RESUME: %v", err)
		}
		evs = feed(t, c, p.frame(`{"t":"RESUMED","s":43,"op":0,"d":{}}`))
		if r, ok := evs[0].(*gateway.Resumed); !ok || r.Seq != 43 {
			t.Fatalf("got %#v", evs[0])
		}
	}
}

func TestResumeURLFailureFallsBack(t *testing.T) {
	c := newConn(t, gateway.Config{URL: "wss://gw.example"})
	p, _ := open(t, c, gateway.CompressNone)
	identify(t, c, p)
	c.Close(4000, "")
	d, _ := c.Connect()
	if !strings.Contains(d.URL, "resume.example") {
		t.Fatalf("dial %s", d.URL)
	}
	c.DialFailed()
	d, _ = c.Connect()
	if !d.Resume || !strings.HasPrefix(d.URL, "wss://gw.example/") {
		t.Fatalf("after failure: %+v", d)
	}
}

func TestCloseNormalEndsSession(t *testing.T) {
	for _, tc := range []struct {
		code gateway.CloseCode
		keep bool
	}{{1000, false}, {1001, false}, {4000, true}, {4999, true}} {
		c := newConn(t, gateway.Config{})
		p, _ := open(t, c, gateway.CompressNone)
		identify(t, c, p)
		c.Close(tc.code, "")
		if msgs := p.sent(c.Output()); len(msgs) != 1 || msgs[0].CloseCode != wsproto.CloseCode(tc.code) {
			t.Fatalf("close %+v", msgs)
		}
		if c.Session().Valid() != tc.keep {
			t.Fatalf("code %d: session kept = %v", tc.code, !tc.keep)
		}
	}
}

func TestInvalidSession(t *testing.T) {
	for _, resumable := range []bool{false, true} {
		c := newConn(t, gateway.Config{})
		p, _ := open(t, c, gateway.CompressNone)
		identify(t, c, p)
		d := "false"
		if resumable {
			d = "true"
		}
		evs := feed(t, c, p.frame(`{"t":null,"s":null,"op":9,"d":`+d+`}`))
		is := evs[0].(*gateway.InvalidSession)
		wantAction := gateway.ActionIdentify
		if resumable {
			wantAction = gateway.ActionResume
		}
		if is.Resumable != resumable || is.Action != wantAction {
			t.Fatalf("got %+v", is)
		}
		// Never IDENTIFY on this socket: the Conn closed it.
		if msgs := p.sent(c.Output()); len(msgs) != 1 || msgs[0].Op != wsproto.OpClose || msgs[0].CloseCode == 1000 || msgs[0].CloseCode == 1001 {
			t.Fatalf("sent %+v", msgs)
		}
		if err := c.Identify(); !errors.Is(err, gateway.ErrClosed) {
			t.Fatalf("Identify after op 9: %v", err)
		}
		if c.Session().Valid() != resumable {
			t.Fatalf("session valid = %v", !resumable)
		}
	}
}

func TestReconnectBeforeHello(t *testing.T) {
	c := newConn(t, gateway.Config{})
	p, _ := open(t, c, gateway.CompressNone)
	evs := feed(t, c, p.frame(`{"t":null,"s":null,"op":7,"d":null}`))
	if _, ok := evs[0].(*gateway.Reconnect); !ok {
		t.Fatalf("got %T", evs[0])
	}
}

// While the driver has stopped reading, heartbeats go on but silence is
// not a zombie; after reading resumes the connection gets one interval.
func TestPauseReadingHoldsZombieVerdict(t *testing.T) {
	c := newConn(t, gateway.Config{Jitter: func() float64 { return 0 }})
	p, _ := open(t, c, gateway.CompressNone)
	feed(t, c, p.frame(`{"t":null,"s":null,"op":10,"d":{"heartbeat_interval":1000}}`))
	now := time.Unix(1000, 0)
	if r := c.Tick(now); r != gateway.TickHeartbeat { // jitter 0: the first beat is due at once
		t.Fatalf("first Tick = %v", r)
	}
	p.sent(c.Output())
	now = now.Add(time.Second)
	c.PauseReading(true)
	for i := range 5 {
		if r := c.Tick(now); r != gateway.TickHeartbeat {
			t.Fatalf("beat %d while paused = %v, want a heartbeat and no zombie", i, r)
		}
		p.sent(c.Output())
		now = now.Add(time.Second)
	}
	c.PauseReading(false)
	if r := c.Tick(now); r != gateway.TickHeartbeat {
		t.Fatalf("first beat after resuming = %v, want a heartbeat (grace)", r)
	}
	now = now.Add(time.Second)
	if r := c.Tick(now); r != gateway.TickZombie {
		t.Fatalf("an interval of silence after resuming = %v, want zombie", r)
	}
}

func TestHeartbeat(t *testing.T) {
	c := newConn(t, gateway.Config{Jitter: func() float64 { return 0.25 }})
	p, _ := open(t, c, gateway.CompressNone)
	t0 := time.Unix(1000, 0)
	if r := c.Tick(t0); r != gateway.TickIdle {
		t.Fatalf("Tick before HELLO = %v", r)
	}
	feed(t, c, p.frame(`{"t":null,"s":null,"op":10,"d":{"heartbeat_interval":1000}}`))
	if dl, ok := c.NextDeadline(); !ok || !dl.IsZero() {
		t.Fatalf("deadline after HELLO = %v %v, want due now", dl, ok)
	}
	if r := c.Tick(t0); r != gateway.TickIdle {
		t.Fatalf("first Tick = %v", r)
	}
	dl, _ := c.NextDeadline()
	if want := t0.Add(250 * time.Millisecond); !dl.Equal(want) {
		t.Fatalf("first beat at %v, want %v (interval × jitter)", dl, want)
	}
	if r := c.Tick(dl.Add(-time.Nanosecond)); r != gateway.TickIdle {
		t.Fatalf("early Tick = %v", r)
	}
	if r := c.Tick(dl); r != gateway.TickHeartbeat {
		t.Fatalf("Tick at deadline = %v", r)
	}
	ps := p.sentPayloads(c.Output())
	if len(ps) != 1 || ps[0].Raw != `{"op":1,"d":null}` {
		t.Fatalf("sent %+v", ps)
	}
	// A dispatch moves the sequence; the ACK counts as something read.
	feed(t, c, p.frame(`{"t":"X","s":17,"op":0,"d":{}}`))
	feed(t, c, p.frame(`{"t":null,"s":null,"op":11,"d":null}`))
	dl2, _ := c.NextDeadline()
	if !dl2.Equal(dl.Add(time.Second)) {
		t.Fatalf("second beat at %v", dl2)
	}
	// A server heartbeat request is answered at once and does not move the
	// timer or count as an unacknowledged beat.
	evs := feed(t, c, p.frame(`{"t":null,"s":null,"op":1,"d":null}`))
	if _, ok := evs[0].(*gateway.HeartbeatRequest); !ok {
		t.Fatalf("got %T", evs[0])
	}
	if ps := p.sentPayloads(c.Output()); len(ps) != 1 || ps[0].Raw != `{"op":1,"d":17}` {
		t.Fatalf("sent %+v", ps)
	}
	if r := c.Tick(dl2); r != gateway.TickHeartbeat {
		t.Fatalf("second Tick = %v", r)
	}
	p.sentPayloads(c.Output())
	// Nothing read since that beat: zombie at the next deadline.
	dl3, _ := c.NextDeadline()
	if r := c.Tick(dl3); r != gateway.TickZombie {
		t.Fatalf("Tick with nothing read = %v, want TickZombie", r)
	}
	if _, ok := c.NextDeadline(); ok {
		t.Fatal("deadline after zombie")
	}
}

func TestHelloResetsHeartbeat(t *testing.T) {
	c := newConn(t, gateway.Config{Jitter: func() float64 { return 0 }})
	p, _ := open(t, c, gateway.CompressNone)
	t0 := time.Unix(0, 0)
	feed(t, c, p.frame(`{"t":null,"s":null,"op":10,"d":{"heartbeat_interval":1000}}`))
	if r := c.Tick(t0); r != gateway.TickHeartbeat {
		t.Fatalf("jitter 0: first Tick = %v, want a beat at once", r)
	}
	c.Output()
	// New connection: the unanswered beat of the old one does not count.
	p, _ = open(t, c, gateway.CompressNone)
	feed(t, c, p.frame(`{"t":null,"s":null,"op":10,"d":{"heartbeat_interval":2000}}`))
	if r := c.Tick(t0.Add(time.Hour)); r != gateway.TickHeartbeat {
		t.Fatalf("after new HELLO: %v", r)
	}
	dl, _ := c.NextDeadline()
	if !dl.Equal(t0.Add(time.Hour + 2*time.Second)) {
		t.Fatalf("deadline %v", dl)
	}
}

func TestSendPayloads(t *testing.T) {
	c := newConn(t, gateway.Config{})
	p, _ := open(t, c, gateway.CompressNone)
	identify(t, c, p)
	ch := "2"
	q := ""
	for _, tc := range []struct {
		send func() error
		want string
	}{
		{func() error {
			return c.UpdatePresence(gateway.Presence{Status: "dnd", Activities: []json.RawMessage{json.RawMessage(`{"name":"x","type":0}`)}})
		}, `{"op":3,"d":{"since":null,"activities":[{"name":"x","type":0}],"status":"dnd","afk":false}}`},
		{func() error {
			return c.UpdateVoiceState(gateway.VoiceStateUpdate{GuildID: "1", ChannelID: &ch, SelfDeaf: true})
		}, `{"op":4,"d":{"guild_id":"1","channel_id":"2","self_mute":false,"self_deaf":true}}`},
		{func() error { return c.UpdateVoiceState(gateway.VoiceStateUpdate{GuildID: "1"}) },
			`{"op":4,"d":{"guild_id":"1","channel_id":null,"self_mute":false,"self_deaf":false}}`},
		{func() error {
			return c.RequestGuildMembers(gateway.RequestGuildMembers{GuildID: "9", Query: &q, Limit: 0, Nonce: "n1"})
		}, `{"op":8,"d":{"guild_id":"9","query":"","limit":0,"nonce":"n1"}}`},
		{func() error {
			return c.RequestGuildMembers(gateway.RequestGuildMembers{GuildID: "9", UserIDs: []string{"3", "4"}, Presences: true})
		}, `{"op":8,"d":{"guild_id":"9","limit":0,"presences":true,"user_ids":["3","4"]}}`},
		{func() error {
			return c.RequestSoundboardSounds(gateway.RequestSoundboardSounds{GuildIDs: []string{"613425648685547541"}})
		}, `{"op":31,"d":{"guild_ids":["613425648685547541"]}}`},
		{func() error {
			return c.RequestChannelInfo(gateway.RequestChannelInfo{GuildID: "5", Fields: []string{"status", "voice_start_time"}})
		}, `{"op":43,"d":{"guild_id":"5","fields":["status","voice_start_time"]}}`},
		{func() error { return c.Send(99, json.RawMessage(`{"future":true}`)) }, `{"op":99,"d":{"future":true}}`},
		{func() error { return c.Send(gateway.OpHeartbeat, nil) }, `{"op":1,"d":null}`},
	} {
		if err := tc.send(); err != nil {
			t.Fatalf("%s: %v", tc.want, err)
		}
		ps := p.sentPayloads(c.Output())
		if len(ps) != 1 || ps[0].Raw != tc.want {
			t.Fatalf("sent %+v, want %s", ps, tc.want)
		}
	}
}

func TestSendTooLarge(t *testing.T) {
	c := newConn(t, gateway.Config{})
	p, _ := open(t, c, gateway.CompressNone)
	identify(t, c, p)
	// Exactly at the limit passes; one byte more is refused.
	overhead := len(`{"op":3,"d":""}`)
	ok := json.RawMessage(`"` + strings.Repeat("a", gateway.MaxPayload-overhead) + `"`)
	if err := c.Send(gateway.OpPresenceUpdate, ok); err != nil {
		t.Fatalf("4096 bytes: %v", err)
	}
	if ps := p.sentPayloads(c.Output()); len(ps[0].Raw) != gateway.MaxPayload {
		t.Fatalf("sent %d bytes", len(ps[0].Raw))
	}
	big := json.RawMessage(`"` + strings.Repeat("a", gateway.MaxPayload-overhead+1) + `"`)
	err := c.Send(gateway.OpPresenceUpdate, big)
	var pe *gateway.PayloadTooLargeError
	if !errors.As(err, &pe) || !errors.Is(err, gateway.ErrPayloadTooLarge) || pe.Size != gateway.MaxPayload+1 || pe.Op != gateway.OpPresenceUpdate {
		t.Fatalf("err = %v", err)
	}
	if out := c.Output(); len(out) != 0 {
		t.Fatalf("refused payload was queued: %d bytes", len(out))
	}
	err = c.RequestGuildMembers(gateway.RequestGuildMembers{GuildID: "1", UserIDs: make([]string, 2000)})
	if !errors.Is(err, gateway.ErrPayloadTooLarge) {
		t.Fatalf("big request: %v", err)
	}
}

func TestDecompressFailureResumes(t *testing.T) {
	for _, comp := range []gateway.Compression{gateway.CompressZlib, gateway.CompressZstd} {
		t.Run(comp.String(), func(t *testing.T) {
			c := newConn(t, gateway.Config{Compression: comp})
			for round := 1; round <= 3; round++ {
				p, d := open(t, c, comp)
				if round == 1 {
					identify(t, c, p)
				} else {
					if !d.Resume {
						t.Fatalf("round %d: Connect after ErrDecompress would IDENTIFY", round)
					}
					evs := feed(t, c, p.frame(helloMsg))
					if !evs[0].(*gateway.Hello).Resuming {
						t.Fatal("not resuming")
					}
					if ps := p.sentPayloads(c.Output()); ps[0].Op != gateway.OpResume {
						t.Fatalf("sent %v", ps[0].Op)
					}
				}
				garbage := wsproto.AppendFrame(nil, wsproto.Server, wsproto.OpBinary, true, false, [4]byte{},
					append(bytes.Repeat([]byte{0xfe}, 50), 0, 0, 0xff, 0xff))
				c.Receive(garbage)
				_, err := drain(t, c)
				if !errors.Is(err, gateway.ErrDecompress) {
					t.Fatalf("round %d: err = %v, want ErrDecompress", round, err)
				}
				if c.DecompressFailures() != round {
					t.Fatalf("DecompressFailures = %d, want %d", c.DecompressFailures(), round)
				}
				if !c.Session().Valid() {
					t.Fatal("session lost on ErrDecompress")
				}
			}
			// A good message resets the count.
			p, _ := open(t, c, comp)
			feed(t, c, p.frame(helloMsg))
			if c.DecompressFailures() != 3 {
				t.Fatalf("count after HELLO = %d", c.DecompressFailures())
			}
			feed(t, c, p.frame(`{"t":"RESUMED","s":5,"op":0,"d":{}}`))
			if c.DecompressFailures() != 0 {
				t.Fatalf("count after a good message = %d", c.DecompressFailures())
			}
		})
	}
}

func TestHandshakeRefused(t *testing.T) {
	c := newConn(t, gateway.Config{URL: "wss://gw.example"})
	if _, err := c.Next(); !errors.Is(err, gateway.ErrState) {
		t.Fatalf("Next before Connect: %v", err)
	}
	p, _ := open(t, c, gateway.CompressNone)
	identify(t, c, p)
	c.Close(4000, "")
	if d, _ := c.Connect(); !strings.Contains(d.URL, "resume.example") {
		t.Fatalf("dial %s", d.URL)
	}
	c.Receive([]byte("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n"))
	_, err := c.Next()
	var he *gateway.HandshakeError
	if !errors.As(err, &he) || he.Status != 503 || !errors.Is(err, gateway.ErrHandshake) {
		t.Fatalf("err = %v", err)
	}
	// A refused upgrade at the resume URL falls back, keeping the session.
	if d, _ := c.Connect(); !d.Resume || !strings.HasPrefix(d.URL, "wss://gw.example/") {
		t.Fatalf("after refusal: %+v", d)
	}
}

func TestProtocolErrorClosesWithCode(t *testing.T) {
	c := newConn(t, gateway.Config{})
	p, _ := open(t, c, gateway.CompressNone)
	// A masked frame from the server violates RFC 6455.
	c.Receive(wsproto.AppendFrame(nil, wsproto.Client, wsproto.OpText, true, false, [4]byte{1, 2, 3, 4}, []byte("{}")))
	_, err := drain(t, c)
	var pe *gateway.ProtocolError
	if !errors.Is(err, gateway.ErrProtocol) || !errors.As(err, &pe) || pe.Code != 1002 {
		t.Fatalf("err = %v", err)
	}
	msgs := p.sent(c.Output())
	if len(msgs) != 1 || msgs[0].CloseCode != wsproto.CloseProtocolError {
		t.Fatalf("sent %+v", msgs)
	}
}

func TestBadPayloads(t *testing.T) {
	for name, msg := range map[string]string{
		"not json":     `hello`,
		"no op":        `{"t":null,"d":{}}`,
		"bad hello":    `{"t":null,"s":null,"op":10,"d":{}}`,
		"ready no id":  `{"t":"READY","s":1,"op":0,"d":{}}`,
		"negative seq": `{"d":{},"op":0,"s":-1,"t":"X"}`,
		"array":        `[1,2]`,
	} {
		t.Run(name, func(t *testing.T) {
			c := newConn(t, gateway.Config{})
			p, _ := open(t, c, gateway.CompressNone)
			if strings.Contains(msg, "READY") {
				// A READY is only taken in answer to an IDENTIFY.
				feed(t, c, p.frame(helloMsg))
				if err := c.Identify(); err != nil {
					t.Fatal(err)
				}
			}
			c.Receive(p.frame(msg))
			_, err := drain(t, c)
			var de *gateway.DecodeError
			if !errors.As(err, &de) || !errors.Is(err, gateway.ErrDecode) {
				t.Fatalf("err = %v", err)
			}
		})
	}
	// Unknown opcodes are skipped.
	c := newConn(t, gateway.Config{})
	p, _ := open(t, c, gateway.CompressNone)
	if evs := feed(t, c, p.frame(`{"t":null,"s":null,"op":55,"d":null}`)); len(evs) != 0 {
		t.Fatalf("events %v", evs)
	}
}

func TestSessionExportRestore(t *testing.T) {
	c := newConn(t, gateway.Config{Token: "tk"})
	p, _ := open(t, c, gateway.CompressNone)
	identify(t, c, p)
	feed(t, c, p.frame(`{"t":"X","s":77,"op":0,"d":{}}`))
	saved, err := c.Session().MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}

	// A new process.
	var s gateway.Session
	if err := s.UnmarshalBinary(saved); err != nil {
		t.Fatal(err)
	}
	c2 := newConn(t, gateway.Config{Token: "tk"})
	c2.Restore(s)
	d, _ := c2.Connect()
	if !d.Resume || !strings.Contains(d.URL, "resume.example") {
		t.Fatalf("dial %+v", d)
	}
	p2 := newPeer(t, gateway.CompressNone)
	feed(t, c2, p2.accept(d))
	feed(t, c2, p2.frame(helloMsg))
	ps := p2.sentPayloads(c2.Output())
	if len(ps) != 1 || string(ps[0].D) != `{"token":"tk","session_id":"sess-1","seq":77}` {
		t.Fatalf("sent %+v", ps)
	}
	for _, bad := range []string{`{`, `{"session_id":"x","seq":-4}`} {
		if err := s.UnmarshalBinary([]byte(bad)); !errors.Is(err, gateway.ErrDecode) {
			t.Fatalf("UnmarshalBinary(%s) = %v", bad, err)
		}
	}
}

// TestReplayRecorded replays testdata/session.zlib6.ws, the server's bytes
// of a zlib-stream connection made with C zlib (fragments and pings
// included), in random splits, and checks every message came out as sent.
func TestReplayRecorded(t *testing.T) {
	rec, err := os.ReadFile("testdata/session.zlib6.ws")
	if err != nil {
		t.Fatal(err)
	}
	type want struct {
		op   int
		name string
		seq  int64
		d    string
	}
	var wants []want
	for _, line := range gateway.LoadSessionForTest(t) {
		var m struct {
			Op int             `json:"op"`
			T  string          `json:"t"`
			S  int64           `json:"s"`
			D  json.RawMessage `json:"d"`
		}
		if err := json.Unmarshal(line, &m); err != nil {
			t.Fatal(err)
		}
		wants = append(wants, want{m.Op, m.T, m.S, string(m.D)})
	}
	rng := rand.New(rand.NewPCG(6, 6))
	for run := 0; run < 20; run++ {
		c := newConn(t, gateway.Config{Compression: gateway.CompressZlib})
		p, _ := open(t, c, gateway.CompressZlib)
		var evs []gateway.Event
		for s := rec; len(s) > 0; {
			n := 1 + rng.IntN(min(len(s), []int{1, 7, 100, 5000}[run%4]))
			c.Receive(s[:n])
			s = s[n:]
			got, err := drainIdentify(t, c)
			if err != nil && !errors.Is(err, gateway.ErrClosed) {
				t.Fatalf("run %d: %v", run, err)
			}
			evs = append(evs, got...)
		}
		if len(evs) != len(wants)+1 {
			t.Fatalf("run %d: %d events, want %d", run, len(evs), len(wants)+1)
		}
		for i, w := range wants {
			var d *gateway.Dispatch
			switch e := evs[i].(type) {
			case *gateway.Dispatch:
				d = e
			case *gateway.Ready:
				d = &e.Dispatch
			}
			if w.op == 0 && (d == nil || d.Name != w.name || d.Seq != w.seq || string(d.Data) != w.d) {
				t.Fatalf("run %d: event %d = %#v, want %v", run, i, evs[i], w.name)
			}
			if w.op != 0 && d != nil {
				t.Fatalf("run %d: event %d is a dispatch, want op %d", run, i, w.op)
			}
		}
		if cl := evs[len(evs)-1].(*gateway.Closed); cl.Code != 4000 || cl.Reason != "recorded close" {
			t.Fatalf("closed %+v", cl)
		}
		// Two pongs and the close reply, in order.
		msgs := p.sent(c.Output())
		var ops []wsproto.Opcode
		for _, m := range msgs {
			if m.Op != wsproto.OpText {
				ops = append(ops, m.Op)
			}
		}
		if len(ops) != 3 || ops[0] != wsproto.OpPong || ops[1] != wsproto.OpPong || ops[2] != wsproto.OpClose {
			t.Fatalf("run %d: control frames sent %v", run, ops)
		}
	}
}

// TestReceiveOpcodes is the table of every opcode a client can receive:
// the event it becomes and what the Conn queues in reply.
func TestReceiveOpcodes(t *testing.T) {
	for _, tc := range []struct {
		msg   string
		event string
		sent  string // payload queued in reply, "" for none
	}{
		{`{"t":"GUILD_CREATE","s":2,"op":0,"d":{"id":"1"}}`, "*gateway.Dispatch", ""},
		{`{"t":null,"s":null,"op":1,"d":null}`, "*gateway.HeartbeatRequest", `{"op":1,"d":1}`},
		{`{"t":null,"s":null,"op":7,"d":null}`, "*gateway.Reconnect", ""},
		{`{"t":null,"s":null,"op":9,"d":false}`, "*gateway.InvalidSession", "close"},
		{`{"t":null,"s":null,"op":10,"d":{"heartbeat_interval":45000}}`, "*gateway.Hello", ""},
		{`{"t":null,"s":null,"op":11,"d":null}`, "*gateway.HeartbeatACK", ""},
		{`{"t":null,"s":null,"op":12,"d":null}`, "", ""},
	} {
		c := newConn(t, gateway.Config{})
		p, _ := open(t, c, gateway.CompressNone)
		identify(t, c, p)
		evs := feed(t, c, p.frame(tc.msg))
		var got string
		if len(evs) > 0 {
			got = reflect.TypeOf(evs[0]).String()
		}
		if len(evs) > 1 || got != tc.event {
			t.Errorf("%s: events %v, want %s", tc.msg, evs, tc.event)
		}
		var sent string
		for _, m := range p.sent(c.Output()) {
			if m.Op == wsproto.OpClose {
				sent = "close"
			} else {
				sent = string(m.Payload)
			}
		}
		if sent != tc.sent {
			t.Errorf("%s: sent %q, want %q", tc.msg, sent, tc.sent)
		}
	}
	for op, want := range map[gateway.Opcode]string{0: "DISPATCH", 31: "REQUEST_SOUNDBOARD_SOUNDS", 43: "REQUEST_CHANNEL_INFO", 5: "OP_5"} {
		if op.String() != want {
			t.Errorf("Opcode(%d).String() = %q", int(op), op.String())
		}
	}
}

// A HELLO asking for a tiny heartbeat_interval (1 ms, or 1e-300 which
// rounds to zero) is raised to the floor: over a minute of ticking, never
// more heartbeats than one a second.
func TestHeartbeatIntervalFloor(t *testing.T) {
	for _, tc := range []struct {
		asked string
		cfg   time.Duration // Config.MinHeartbeatInterval
		want  time.Duration
	}{
		{"1", 0, gateway.DefaultMinHeartbeatInterval},
		{"1e-300", 0, gateway.DefaultMinHeartbeatInterval},
		{"0.5", 0, gateway.DefaultMinHeartbeatInterval},
		{"41250", 0, 41250 * time.Millisecond},
		{"1", 20 * time.Millisecond, 20 * time.Millisecond},
	} {
		t.Run(tc.asked, func(t *testing.T) {
			c := newConn(t, gateway.Config{Jitter: func() float64 { return 0 }, MinHeartbeatInterval: tc.cfg})
			p, _ := open(t, c, gateway.CompressNone)
			evs := feed(t, c, p.frame(`{"t":null,"s":null,"op":10,"d":{"heartbeat_interval":`+tc.asked+`}}`))
			if h, ok := evs[0].(*gateway.Hello); !ok || h.Interval != tc.want {
				t.Fatalf("HELLO event %+v, want Interval %v", evs[0], tc.want)
			}
			start := time.Unix(1000, 0)
			now, beats := start, 0
			for now.Before(start.Add(time.Minute)) {
				switch c.Tick(now) {
				case gateway.TickHeartbeat:
					beats++
					p.sent(c.Output())
					feed(t, c, p.frame(`{"t":null,"s":null,"op":11,"d":null}`))
				case gateway.TickZombie:
					t.Fatal("zombie despite ACKs")
				}
				dl, _ := c.NextDeadline()
				if !dl.After(now) {
					dl = now.Add(time.Nanosecond)
				}
				now = dl
				if beats > 100000 {
					break
				}
			}
			if max := int(time.Minute/tc.want) + 1; beats > max {
				t.Fatalf("%d heartbeats in a minute for heartbeat_interval %s, want at most %d", beats, tc.asked, max)
			}
		})
	}
}
