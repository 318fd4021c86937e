package gateway_test

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/ipcord/ipcord/gateway"
	"github.com/ipcord/ipcord/internal/wsproto"
)

// fakeDiscord plays Discord's side of a connection for the examples.
func fakeDiscord(req []byte, payloads ...string) []byte {
	key := string(req[strings.Index(string(req), "Sec-WebSocket-Key: ")+19:])
	key = key[:strings.Index(key, "\r\n")]
	b := wsproto.AppendResponse(nil, key, "", "", http.Header{})
	for _, p := range payloads {
		b = wsproto.AppendFrame(b, wsproto.Server, wsproto.OpText, true, false, [4]byte{}, []byte(p))
	}
	return b
}

// A bot's first connection: HELLO, IDENTIFY, READY, then dispatches.
func Example() {
	c, err := gateway.New(gateway.Config{
		Token:   "my-token",
		Intents: gateway.IntentGuilds | gateway.IntentGuildMessages,
	})
	if err != nil {
		panic(err)
	}
	d, _ := c.Connect()
	fmt.Println("dial", d.URL)

	c.Receive(fakeDiscord(d.Request,
		`{"t":null,"s":null,"op":10,"d":{"heartbeat_interval":41250}}`,
	))
	for ev, _ := c.Next(); ev != nil; ev, _ = c.Next() {
		if h, ok := ev.(*gateway.Hello); ok {
			fmt.Println("hello, heartbeat every", h.Interval)
			if err := c.Identify(); err != nil { // after taking an identify slot
				panic(err)
			}
		}
	}
	fmt.Println("bytes to write:", len(c.Output()) > 0)

	c.Receive(wsproto.AppendFrame(nil, wsproto.Server, wsproto.OpText, true, false, [4]byte{},
		[]byte(`{"t":"READY","s":1,"op":0,"d":{"session_id":"abc","resume_gateway_url":"wss://resume.discord.gg"}}`)))
	c.Receive(wsproto.AppendFrame(nil, wsproto.Server, wsproto.OpText, true, false, [4]byte{},
		[]byte(`{"t":"MESSAGE_CREATE","s":2,"op":0,"d":{"content":"hi"}}`)))
	for ev, _ := c.Next(); ev != nil; ev, _ = c.Next() {
		switch ev := ev.(type) {
		case *gateway.Ready:
			fmt.Println("ready, session", ev.SessionID)
		case *gateway.Dispatch:
			var m struct{ Content string }
			ev.Decode(&m)
			fmt.Println(ev.Seq, ev.Name, m.Content)
		}
	}
	// Output:
	// dial wss://gateway.discord.gg/?v=10&encoding=json
	// hello, heartbeat every 41.25s
	// bytes to write: true
	// ready, session abc
	// 2 MESSAGE_CREATE hi
}

// A restarted process resumes the session the previous one saved.
func ExampleConn_Restore() {
	saved, _ := gateway.Session{ID: "abc", Seq: 1234, ResumeURL: "wss://resume.discord.gg"}.MarshalBinary()

	var s gateway.Session
	if err := s.UnmarshalBinary(saved); err != nil {
		panic(err)
	}
	c, _ := gateway.New(gateway.Config{Token: "my-token"})
	c.Restore(s)
	d, _ := c.Connect()
	fmt.Println(d.Resume, d.URL)
	// Output: true wss://resume.discord.gg/?v=10&encoding=json
}

func ExampleActionFor() {
	for _, code := range []gateway.CloseCode{4000, 4004, 4009} {
		fmt.Println(code, "->", gateway.ActionFor(code))
	}
	// Output:
	// 4000 unknown error -> resume
	// 4004 authentication failed -> stop
	// 4009 session timed out -> identify
}
