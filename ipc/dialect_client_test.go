package ipc_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ipcord/ipcord/internal/leaktest"
	"github.com/ipcord/ipcord/internal/wsproto"
	"github.com/ipcord/ipcord/ipc"
)

// pyServer stands in for a Python library's server: it accepts plain
// WebSocket connections and hands each to the test, which plays the
// server's part frame by frame.
type pyServer struct {
	t     *testing.T
	url   string
	conns chan *pyConn
}

type pyConn struct {
	t      *testing.T
	nc     net.Conn
	dec    wsproto.Decoder
	header http.Header
}

func startPyServer(t *testing.T) *pyServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ps := &pyServer{t: t, url: "ws://" + ln.Addr().String(), conns: make(chan *pyConn, 16)}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var all []net.Conn
	hs := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key, err := wsproto.CheckRequest(r)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		nc, buffered, err := wsproto.Hijack(w)
		if err != nil {
			return
		}
		mu.Lock()
		all = append(all, nc)
		mu.Unlock()
		nc.Write(wsproto.AppendResponse(nil, key, "", "", nil))
		pc := &pyConn{t: t, nc: nc, dec: wsproto.Decoder{Role: wsproto.Server, MaxMessage: 1 << 20}, header: r.Header}
		pc.dec.Feed(buffered)
		ps.conns <- pc
	})}
	wg.Go(func() { hs.Serve(ln) })
	t.Cleanup(func() {
		hs.Close()
		mu.Lock()
		for _, nc := range all {
			nc.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return ps
}

// accept returns the next connection the client made.
func (ps *pyServer) accept() *pyConn {
	ps.t.Helper()
	select {
	case pc := <-ps.conns:
		return pc
	case <-time.After(5 * time.Second):
		ps.t.Fatal("the client did not connect")
		return nil
	}
}

// next returns the next data or close message, answering pings.
func (pc *pyConn) next() (wsproto.Message, error) {
	pc.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		m, ok, err := pc.dec.Next()
		if err != nil {
			return m, err
		}
		if ok {
			switch m.Op {
			case wsproto.OpPing:
				pc.nc.Write(wsproto.AppendFrame(nil, wsproto.Server, wsproto.OpPong, true, false, [4]byte{}, m.Payload))
				continue
			case wsproto.OpPong:
				continue
			}
			m.Payload = append([]byte(nil), m.Payload...)
			return m, nil
		}
		if _, err := pc.dec.ReadFrom(pc.nc); err != nil {
			return m, err
		}
	}
}

// expect reads one text message and compares it, as JSON, with want.
func (pc *pyConn) expect(want string) {
	pc.t.Helper()
	m, err := pc.next()
	if err != nil || m.Op != wsproto.OpText {
		pc.t.Fatalf("want %s, got %v %q (%v)", want, m.Op, m.Payload, err)
	}
	if !(vars{}).match(decodeAny(pc.t, 0, want), decodeAny(pc.t, 0, string(m.Payload))) {
		pc.t.Fatalf("client sent\n %s\nwant\n %s", m.Payload, want)
	}
}

func (pc *pyConn) send(s string) {
	pc.nc.Write(wsproto.AppendFrame(nil, wsproto.Server, wsproto.OpText, true, false, [4]byte{}, []byte(s)))
}

func (pc *pyConn) closeWith(code int) {
	pc.nc.Write(wsproto.AppendClose(nil, wsproto.Server, [4]byte{}, wsproto.CloseCode(code), ""))
}

func dialDialect(t *testing.T, d ipc.Dialect, u string) *ipc.Client {
	t.Helper()
	return dial(t, ipc.ClientConfig{URL: u, Dialect: d, MinBackoff: time.Millisecond, MaxBackoff: 10 * time.Millisecond})
}

// TestTranscriptsClient plays the server's side of the golden transcripts
// to our client: what the client sends must be the golden request frame,
// and what it makes of each golden reply must be the value or typed error
// the reply stands for.
func TestTranscriptsClient(t *testing.T) {
	for _, tc := range []struct {
		dir     string
		dialect ipc.Dialect
	}{{"extipc", ipc.ExtIPC}, {"betteripc", ipc.BetterIPC}} {
		for _, tr := range loadTranscripts(t, tc.dir) {
			if !clientPlayable(tr) {
				continue
			}
			t.Run(tc.dir+"/"+tr.name, func(t *testing.T) {
				leaktest.Check(t)
				ps := startPyServer(t)
				c := dialDialect(t, tc.dialect, ps.url)
				pc := ps.accept()
				for i := 0; i < len(tr.steps); i++ {
					st := tr.steps[i]
					switch st.op {
					case "second", "reconnect":
						// The server goes away; once the client echoed the
						// close it reconnects for its next call.
						pc.closeWith(1001)
						pc.next()
						pc.nc.Close()
						continue
					case "quiet":
						continue
					}
					if st.op != ">" || i+1 >= len(tr.steps) || tr.steps[i+1].op != "<" {
						t.Fatalf("line %d: unplayable step", st.line)
					}
					route, args := requestOf(t, tc.dialect, st)
					reply := tr.steps[i+1].arg
					i++
					if string(args) == "null" {
						continue // a frame no Python client sends: ours sends {}
					}
					type res struct {
						out json.RawMessage
						err error
					}
					done := make(chan res, 1)
					go func() {
						var out json.RawMessage
						err := c.Call(ctxTimeout(t, 5*time.Second), route, args, &out)
						done <- res{out, err}
					}()
					m, err := pc.next()
					if err != nil {
						pc = ps.accept() // the client reconnected
						m, err = pc.next()
					}
					if err != nil || m.Op != wsproto.OpText {
						t.Fatalf("line %d: reading the client's request: %v", st.line, err)
					}
					if !(vars{}).match(decodeAny(t, st.line, st.arg), decodeAny(t, st.line, string(m.Payload))) {
						t.Fatalf("line %d: client sent\n %s\nwant\n %s", st.line, m.Payload, st.arg)
					}
					pc.send(reply)
					r := <-done
					checkClientReply(t, tc.dialect, st.line, reply, r.out, r.err)
				}
			})
		}
	}
}

// clientPlayable: a transcript our one-at-a-time client can speak — every
// request followed by its reply, and the secret the client has.
func clientPlayable(tr transcript) bool {
	for i, st := range tr.steps {
		switch st.op {
		case ">":
			if !strings.Contains(st.arg, `"s3cret"`) || !strings.Contains(st.arg, `"endpoint": "`) || i+1 >= len(tr.steps) || tr.steps[i+1].op != "<" {
				return false
			}
		case "<", "second", "reconnect", "quiet":
		default:
			return false
		}
	}
	return true
}

func requestOf(t *testing.T, d ipc.Dialect, st step) (string, json.RawMessage) {
	var req struct {
		Endpoint string          `json:"endpoint"`
		Data     json.RawMessage `json:"data"`
		Kwargs   json.RawMessage `json:"kwargs"`
	}
	if err := json.Unmarshal([]byte(st.arg), &req); err != nil {
		t.Fatalf("line %d: %v", st.line, err)
	}
	if d == ipc.ExtIPC {
		return req.Endpoint, req.Data
	}
	return req.Endpoint, req.Kwargs
}

// checkClientReply checks what the client made of a golden reply.
func checkClientReply(t *testing.T, d ipc.Dialect, line int, reply string, out json.RawMessage, err error) {
	t.Helper()
	var obj map[string]any
	json.Unmarshal([]byte(reply), &obj)
	wantCode := ""
	var wantValue any
	if d == ipc.ExtIPC {
		if len(obj) == 2 && obj["error"] != nil && obj["code"] != nil {
			wantCode = map[float64]string{400: ipc.CodeUnknownRoute, 403: ipc.CodeUnauthorized, 500: ipc.CodeHandlerError}[obj["code"].(float64)]
			if strings.HasPrefix(obj["error"].(string), "IPC route returned values") {
				wantCode = ipc.CodeEncodeError
			}
		} else {
			wantValue = decodeAny(t, line, reply)
		}
	} else {
		switch obj["code"].(float64) {
		case 200:
			if obj["decoding"] == "JSON" {
				wantValue = decodeAny(t, line, obj["response"].(string))
			} else {
				wantValue = obj["response"]
			}
		case 403:
			wantCode = ipc.CodeUnauthorized
		case 404:
			wantCode = ipc.CodeUnknownRoute
		case 500:
			wantCode = obj["error_details"].(string)
			if wantCode == "guild_not_found" {
				wantCode = ipc.CodeHandlerError // only our own codes are trusted back
			}
		}
	}
	if wantCode != "" {
		var e *ipc.Error
		if !errors.As(err, &e) || e.Code != wantCode {
			t.Fatalf("line %d: client returned %s / %v, want error code %s", line, out, err, wantCode)
		}
		return
	}
	if err != nil {
		t.Fatalf("line %d: client failed: %v", line, err)
	}
	if !(vars{}).match(wantValue, decodeAny(t, line, string(out))) {
		t.Fatalf("line %d: client returned %s, want %v", line, out, wantValue)
	}
}

func TestExtIPCClientDetectsPerRequestServer(t *testing.T) {
	leaktest.Check(t)
	ps := startPyServer(t)
	c := dialDialect(t, ipc.ExtIPC, ps.url)
	// An ipcx server answers one request per connection, then closes
	// with 1000; every call must still succeed.
	go func() {
		for i := 0; i < 3; i++ {
			pc := <-ps.conns
			if _, err := pc.next(); err != nil {
				return
			}
			pc.send(`{"n": ` + string(rune('0'+i)) + `}`)
			pc.closeWith(1000)
			pc.next() // the client's echo or EOF
		}
	}()
	for i := 0; i < 3; i++ {
		var out struct{ N int }
		if err := c.Call(ctxTimeout(t, 5*time.Second), "count", nil, &out); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
		if out.N != i {
			t.Fatalf("call %d got reply %d", i, out.N)
		}
	}
}

// A call that times out on a dialect without ids must not leave its late
// reply for the next caller: the connection is dropped instead.
func TestSeqClientTimeoutDoesNotLeakLateReply(t *testing.T) {
	for _, d := range []ipc.Dialect{ipc.ExtIPC, ipc.BetterIPC} {
		t.Run(string(d), func(t *testing.T) {
			leaktest.Check(t)
			ps := startPyServer(t)
			c := dialDialect(t, d, ps.url)
			first := ps.accept()
			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			defer cancel()
			errc := make(chan error, 1)
			go func() { errc <- c.Call(ctx, "slow", nil, nil) }()
			if _, err := first.next(); err != nil {
				t.Fatal(err)
			}
			if err := <-errc; !errors.Is(err, ipc.ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("slow call: %v, want timeout", err)
			}
			// The first connection ends (closed, or dropped for
			// better-ipc), whatever the late reply does.
			first.send(`"late"`)
			if m, err := first.next(); err == nil && m.Op == wsproto.OpText {
				t.Fatalf("client sent %q on the abandoned connection", m.Payload)
			}
			go func() {
				pc := <-ps.conns
				if _, err := pc.next(); err == nil {
					if d == ipc.ExtIPC {
						pc.send(`"fresh"`)
					} else {
						pc.send(`{"decoding": null, "code": 200, "response": "fresh"}`)
					}
				}
			}()
			got, err := ipc.CallAs[string](ctxTimeout(t, 5*time.Second), c, "hello", nil)
			if err != nil || got != "fresh" {
				t.Fatalf("next call got %q, %v; want fresh", got, err)
			}
		})
	}
}

func TestBetterIPCClientKeepsIDAndDropsTCP(t *testing.T) {
	leaktest.Check(t)
	ps := startPyServer(t)
	ctx := ctxTimeout(t, 5*time.Second)
	c, err := ipc.Dial(ctx, ipc.ClientConfig{URL: ps.url, Dialect: ipc.BetterIPC, Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	pc := ps.accept()
	id := pc.header.Get("ID")
	if id == "" {
		t.Fatal("no ID header")
	}
	// The server goes away (after the client echoed its close, so the
	// next call certainly reconnects rather than racing the close).
	pc.closeWith(1001)
	pc.next()
	pc.nc.Close()
	go func() {
		pc := <-ps.conns
		if got := pc.header.Get("ID"); got != id {
			t.Errorf("ID after reconnect %q, want %q", got, id)
		}
		pc.expect(`{"endpoint": "hello", "secret": "s3cret", "kwargs": {}}`)
		pc.send(`{"decoding": null, "code": 200, "response": "hi"}`)
		ps.conns <- pc
	}()
	if got, err := ipc.CallAs[string](ctx, c, "hello", nil); err != nil || got != "hi" {
		t.Fatalf("got %q, %v", got, err)
	}
	pc = ps.accept()
	c.Close()
	// No close frame: after a clean close the Python server refuses new IDs.
	m, err := pc.next()
	if err == nil {
		t.Fatalf("client sent %v (close %d) instead of dropping TCP", m.Op, m.CloseCode)
	}
}

func TestBetterIPCMulticastConnectsPerRequest(t *testing.T) {
	leaktest.Check(t)
	ps := startPyServer(t)
	c := dialDialect(t, ipc.BetterIPCMulticast, ps.url)
	go func() {
		for i := 0; i < 2; i++ {
			pc := <-ps.conns
			if pc.header.Get("ID") != "" {
				t.Errorf("multicast sent an ID header")
			}
			pc.expect(`{"endpoint": "echo", "secret": "s3cret", "kwargs": {"i": "$i"}}`)
			pc.send(`{"decoding": "JSON", "code": 200, "response": "{\"ok\": true}"}`)
			if m, err := pc.next(); err != nil || m.Op != wsproto.OpClose {
				t.Errorf("multicast connection not closed after the reply: %v %v", m.Op, err)
			}
		}
	}()
	for i := 0; i < 2; i++ {
		got, err := ipc.CallAs[map[string]bool](ctxTimeout(t, 5*time.Second), c, "echo", map[string]int{"i": i})
		if err != nil || !got["ok"] {
			t.Fatalf("call %d: %v %v", i, got, err)
		}
	}
}

// Go to Go in each id-less dialect: a route written once, served and
// called with the same API, errors typed on arrival.
func TestSeqDialectsGoToGo(t *testing.T) {
	for _, d := range []ipc.Dialect{ipc.ExtIPC, ipc.BetterIPC, ipc.BetterIPCMulticast} {
		t.Run(string(d), func(t *testing.T) {
			leaktest.Check(t)
			_, u, _ := dialectServer(t, nil)
			c := dialDialect(t, d, u)
			ctx := ctxTimeout(t, 5*time.Second)
			got, err := ipc.CallAs[map[string]int](ctx, c, "echo", map[string]int{"a": 1})
			if err != nil || got["a"] != 1 {
				t.Fatalf("echo: %v %v", got, err)
			}
			if s, err := ipc.CallAs[string](ctx, c, "hello", nil); err != nil || s != "hi" {
				t.Fatalf("hello: %q %v", s, err)
			}
			for route, want := range map[string]error{"nope": ipc.ErrUnknownRoute, "fail": ipc.ErrHandler, "unencodable": ipc.ErrEncode} {
				if err := c.Call(ctx, route, nil, nil); !errors.Is(err, want) {
					t.Errorf("%s: %v, want %v", route, err, want)
				}
			}
			bad, err := ipc.Dial(ctx, ipc.ClientConfig{URL: u, Dialect: d, Secret: "wrong"})
			if err != nil {
				t.Fatal(err)
			}
			defer bad.Close()
			if err := bad.Call(ctx, "hello", nil, nil); !errors.Is(err, ipc.ErrUnauthorized) {
				t.Errorf("wrong secret: %v, want unauthorized", err)
			}
		})
	}
}

func TestZonisBotGoToGo(t *testing.T) {
	leaktest.Check(t)
	srv, u, _ := dialectServer(t, func(s *ipc.Server) { s.ZonisOverrideKey = "over" })
	bot := func(name string) *ipc.Router {
		r := ipc.NewRouter()
		r.HandleFunc("stats", func(ctx context.Context, req *ipc.Request) (any, error) {
			// The server can be called back from a handler.
			var hi string
			if err := req.Caller.Call(ctx, "hello", nil, &hi); err != nil {
				return nil, err
			}
			return map[string]string{"bot": name, "peer": req.Peer, "hello": hi}, nil
		})
		return r
	}
	ctx := ctxTimeout(t, 10*time.Second)
	c := dial(t, ipc.ClientConfig{URL: u, Dialect: ipc.Zonis, Router: bot("one"), PingInterval: 20 * time.Millisecond})
	id := c.Identifier()
	if !strings.HasPrefix(id, "ipcord-") {
		t.Fatalf("default identifier %q", id)
	}
	waitFor(t, 5*time.Second, "the bot to register", func() bool { return len(srv.Clients()) == 1 })

	var out map[string]string
	if err := srv.Call(ctx, id, "stats", nil, &out); err != nil || out["bot"] != "one" || out["peer"] != "SERVER" || out["hello"] != "hi" {
		t.Fatalf("server → bot: %v %v", out, err)
	}
	if err := srv.Call(ctx, id, "nope", nil, nil); !errors.Is(err, ipc.ErrUnknownRoute) {
		t.Fatalf("unknown route on the bot: %v", err)
	}
	if res := srv.Broadcast(ctx, "stats", nil); len(res) != 1 || res[0].Client != id || res[0].Err != nil {
		t.Fatalf("broadcast: %+v", res)
	}
	// bot → server
	if got, err := ipc.CallAs[map[string]int](ctx, c, "echo", map[string]int{"a": 1}); err != nil || got["a"] != 1 {
		t.Fatalf("bot → server: %v %v", got, err)
	}
	for route, want := range map[string]error{"nope": ipc.ErrUnknownRoute, "fail": ipc.ErrHandler, "unencodable": ipc.ErrEncode} {
		if err := c.Call(ctx, route, nil, nil); !errors.Is(err, want) {
			t.Errorf("%s: %v, want %v", route, err, want)
		}
	}
	if err := c.Call(ctx, "coded", nil, nil); !errors.Is(err, &ipc.Error{Code: "guild_not_found"}) {
		t.Errorf("coded: %v", err)
	}

	// A duplicate and a wrong secret are refused and evict nobody.
	if _, err := ipc.Dial(ctx, ipc.ClientConfig{URL: u, Dialect: ipc.Zonis, Secret: secret, Identifier: id}); !errors.Is(err, ipc.ErrDuplicateIdentifier) {
		t.Fatalf("duplicate: %v", err)
	}
	if _, err := ipc.Dial(ctx, ipc.ClientConfig{URL: u, Dialect: ipc.Zonis, Secret: "wrong", Identifier: id, ZonisOverrideKey: "over"}); !errors.Is(err, ipc.ErrUnauthorized) {
		t.Fatalf("wrong secret: %v", err)
	}
	if err := srv.Call(ctx, id, "stats", nil, &out); err != nil || out["bot"] != "one" {
		t.Fatalf("holder evicted: %v %v", out, err)
	}

	// The override key takes the identifier over; the old bot stops.
	c2 := dial(t, ipc.ClientConfig{URL: u, Dialect: ipc.Zonis, Router: bot("two"), Identifier: id, ZonisOverrideKey: "over"})
	_ = c2
	waitFor(t, 5*time.Second, "the old bot to be replaced", func() bool {
		return errors.Is(c.Call(ctx, "hello", nil, nil), ipc.ErrDuplicateIdentifier)
	})
	if err := srv.Call(ctx, id, "stats", nil, &out); err != nil || out["bot"] != "two" {
		t.Fatalf("after override: %v %v", out, err)
	}
}

func TestExtIPCClientDiscovery(t *testing.T) {
	leaktest.Check(t)
	_, u, _ := dialectServer(t, nil)
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(u, "ws://"))
	disc := startPyServer(t)
	go func() {
		pc := <-disc.conns
		pc.expect(`{"connect": true, "headers": {"Authorization": "s3cret"}}`)
		pc.send(`{"message": "Connection success", "port": ` + port + `, "code": 200}`)
		pc.next() // the client closes the discovery connection
		pc = <-disc.conns
		pc.expect(`{"connect": true, "headers": {"Authorization": "wrong"}}`)
		pc.send(`{"error": "Invalid or no token provided.", "code": 403}`)
		pc.next()
	}()
	ctx := ctxTimeout(t, 5*time.Second)
	c := dial(t, ipc.ClientConfig{URL: disc.url, Dialect: ipc.ExtIPC, ExtIPCDiscovery: true})
	if s, err := ipc.CallAs[string](ctx, c, "hello", nil); err != nil || s != "hi" {
		t.Fatalf("call through discovery: %q %v", s, err)
	}
	_, err := ipc.Dial(ctx, ipc.ClientConfig{URL: disc.url, Dialect: ipc.ExtIPC, ExtIPCDiscovery: true, Secret: "wrong"})
	if !errors.Is(err, ipc.ErrUnauthorized) {
		t.Fatalf("discovery with a wrong secret: %v", err)
	}
}

func TestForwarderReachesAConnectedClient(t *testing.T) {
	leaktest.Check(t)
	srv := &ipc.Server{Router: ipc.NewRouter(), Secret: secret}
	if err := srv.Router.Handle(ipc.ForwardRoute, ipc.Forwarder(srv)); err != nil {
		t.Fatal(err)
	}
	u := startServer(t, srv)
	bots := ipc.NewRouter()
	bots.HandleFunc("guilds", func(ctx context.Context, req *ipc.Request) (any, error) { return []int{1, 2}, nil })
	dial(t, ipc.ClientConfig{URL: u, Identifier: "bot-1", Router: bots})
	dial(t, ipc.ClientConfig{URL: u, Identifier: "bot-z", Router: bots, Dialect: ipc.Zonis})
	tool := dial(t, ipc.ClientConfig{URL: u, Identifier: "tool"})
	ctx := ctxTimeout(t, 5*time.Second)
	for _, id := range []string{"bot-1", "bot-z"} {
		got, err := ipc.CallAs[[]int](ctx, tool, ipc.ForwardRoute, ipc.ForwardArgs{Client: id, Route: "guilds"})
		if err != nil || len(got) != 2 {
			t.Fatalf("forward to %s: %v %v", id, got, err)
		}
		if err := tool.Call(ctx, ipc.ForwardRoute, ipc.ForwardArgs{Client: id, Route: "nope"}, nil); !errors.Is(err, ipc.ErrUnknownRoute) {
			t.Fatalf("forwarded unknown route: %v", err)
		}
	}
	if err := tool.Call(ctx, ipc.ForwardRoute, ipc.ForwardArgs{Client: "ghost", Route: "guilds"}, nil); !errors.Is(err, ipc.ErrUnknownClient) {
		t.Fatalf("forward to nobody: %v", err)
	}
	if err := tool.Call(ctx, ipc.ForwardRoute, map[string]int{"x": 1}, nil); !errors.Is(err, ipc.ErrBadRequest) {
		t.Fatalf("bad forward args: %v", err)
	}
}

// TestZonisClientGoldenFrames plays a Python Zonis server to our bot: the
// frames it sends must be Zonis's, packet ids aside.
func TestZonisClientGoldenFrames(t *testing.T) {
	leaktest.Check(t)
	ps := startPyServer(t)
	r := ipc.NewRouter()
	r.HandleFunc("stats", func(ctx context.Context, req *ipc.Request) (any, error) {
		return map[string]int{"guilds": 3}, nil
	})
	v := vars{}
	expect := func(pc *pyConn, want string) {
		t.Helper()
		m, err := pc.next()
		if err != nil || m.Op != wsproto.OpText {
			t.Fatalf("want %s, got %v %v", want, m.Op, err)
		}
		if !v.match(decodeAny(t, 0, want), decodeAny(t, 0, string(m.Payload))) {
			t.Fatalf("bot sent\n %s\nwant\n %s", m.Payload, want)
		}
	}
	dialed := make(chan *ipc.Client, 1)
	go func() {
		c, err := ipc.Dial(ctxTimeout(t, 5*time.Second), ipc.ClientConfig{URL: ps.url, Secret: secret, Identifier: "bot", Dialect: ipc.Zonis, Router: r})
		if err != nil {
			t.Error(err)
		}
		dialed <- c
	}()
	pc := ps.accept()
	expect(pc, `{"packet_id": "$id", "type": "request", "data": {"identifier": "bot", "type": "IDENTIFY", "data": {"secret_key": "s3cret", "override_key": null}}}`)
	pc.send(v.expand(`{"packet_id": "$id", "type": "response", "data": {"identifier": "bot", "type": "IDENTIFY", "data": null}}`))
	c := <-dialed
	if c == nil {
		t.FailNow()
	}
	defer c.Close()
	if len(v["id"].(string)) != 32 {
		t.Fatalf("packet_id %q is not 32 hex digits", v["id"])
	}

	// The server calls the bot.
	pc.send(`{"packet_id": "a1", "type": "request", "data": {"identifier": "bot", "type": "REQUEST", "data": {"route": "stats", "arguments": {}}}}`)
	expect(pc, `{"packet_id": "a1", "type": "response", "data": {"identifier": "bot", "type": "SUCCESS_RESPONSE", "data": {"guilds": 3}}}`)
	pc.send(`{"packet_id": "a2", "type": "request", "data": {"identifier": "bot", "type": "REQUEST", "data": {"route": "nope", "arguments": {}}}}`)
	expect(pc, `{"packet_id": "a2", "type": "response", "data": {"identifier": "bot", "type": "FAILURE_RESPONSE", "data": "nope is not a valid route name."}}`)

	// The bot calls the server, twice at once; the replies come back in
	// the other order.
	type res struct {
		out map[string]int
		err error
	}
	results := make(chan res, 2)
	for i := range 2 {
		go func() {
			out, err := ipc.CallAs[map[string]int](ctxTimeout(t, 5*time.Second), c, "guild", map[string]int{"i": i})
			results <- res{out, err}
		}()
	}
	var ids [2]string
	for range 2 {
		m, err := pc.next()
		if err != nil {
			t.Fatal(err)
		}
		var f struct {
			PacketID string `json:"packet_id"`
			Data     struct {
				Identifier, Type string
				Data             struct {
					Route     string
					Arguments struct{ I int }
				}
			}
		}
		json.Unmarshal(m.Payload, &f)
		if f.Data.Type != "CLIENT_REQUEST" || f.Data.Identifier != "bot" || f.Data.Data.Route != "guild" {
			t.Fatalf("bot's call: %s", m.Payload)
		}
		ids[f.Data.Data.Arguments.I] = f.PacketID
	}
	pc.send(`{"packet_id": "` + ids[1] + `", "type": "response", "data": {"identifier": "SERVER", "type": "SUCCESS_RESPONSE", "data": {"i": 1}}}`)
	pc.send(`{"packet_id": "` + ids[0] + `", "type": "response", "data": {"identifier": "SERVER", "type": "FAILURE_RESPONSE", "data": "Traceback (most recent call last): KeyError"}}`)
	got := map[int]bool{}
	for range 2 {
		r := <-results
		switch {
		case r.err == nil && r.out["i"] == 1:
			got[1] = true
		case errors.Is(r.err, ipc.ErrHandler):
			got[0] = true
		default:
			t.Fatalf("unexpected result %v %v", r.out, r.err)
		}
	}
	if !got[0] || !got[1] {
		t.Fatalf("results %v", got)
	}
}

func TestZonisClientRefusals(t *testing.T) {
	for code, want := range map[int]error{4100: ipc.ErrUnauthorized, 4101: ipc.ErrZonisIdentify, 4102: ipc.ErrDuplicateIdentifier} {
		t.Run(fmt.Sprint(code), func(t *testing.T) {
			leaktest.Check(t)
			ps := startPyServer(t)
			go func() {
				pc := <-ps.conns
				pc.next()
				pc.closeWith(code)
				pc.next()
			}()
			_, err := ipc.Dial(ctxTimeout(t, 5*time.Second), ipc.ClientConfig{URL: ps.url, Secret: secret, Dialect: ipc.Zonis})
			if !errors.Is(err, want) {
				t.Fatalf("close %d: Dial returned %v, want %v", code, err, want)
			}
		})
	}
}
