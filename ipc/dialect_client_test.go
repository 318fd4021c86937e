package ipc_test

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/ipcord/ipcord/internal/leaktest"
	"github.com/ipcord/ipcord/internal/wsproto"
	"github.com/ipcord/ipcord/ipc"
)

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
					if args[0] != '{' {
						// Python's keyword arguments are an object: our
						// client refuses anything else before sending.
						err := c.Call(ctxTimeout(t, 5*time.Second), route, args, nil)
						if !errors.Is(err, ipc.ErrBadRequest) {
							t.Fatalf("line %d: args %s: %v, want bad_request", st.line, args, err)
						}
						continue
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
// request followed by its reply, the secret the client has, and plain JSON
// (a Go client sends no NaN: encoding refuses it).
func clientPlayable(tr transcript) bool {
	for i, st := range tr.steps {
		switch st.op {
		case ">":
			if !json.Valid([]byte(st.arg)) || !strings.Contains(st.arg, `"s3cret"`) || !strings.Contains(st.arg, `"endpoint": "`) || i+1 >= len(tr.steps) || tr.steps[i+1].op != "<" {
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

// A call's deadline is kept on the id-less dialects: the connection it
// abandons is closed in the background, not on the caller's time (a
// Python server busy with the route does not read the close frame).
func TestSeqClientReturnsAtDeadline(t *testing.T) {
	for _, d := range []ipc.Dialect{ipc.ExtIPC, ipc.BetterIPC, ipc.BetterIPCMulticast} {
		t.Run(string(d), func(t *testing.T) {
			leaktest.Check(t)
			ps := startPyServer(t)
			c := dialDialect(t, d, ps.url)
			const deadline = 100 * time.Millisecond
			ctx, cancel := context.WithTimeout(context.Background(), deadline)
			defer cancel()
			start := time.Now()
			errc := make(chan error, 1)
			go func() { errc <- c.Call(ctx, "slow", nil, nil) }()
			pc := ps.accept()
			if _, err := pc.next(); err != nil { // the request; then the server reads nothing more
				t.Fatal(err)
			}
			err := <-errc
			if took := time.Since(start); !errors.Is(err, ipc.ErrTimeout) || took > deadline+500*time.Millisecond {
				t.Fatalf("call returned %v after %v; want ErrTimeout at its %v deadline", err, took, deadline)
			}
		})
	}
}
