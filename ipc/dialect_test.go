package ipc_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ipcord/ipcord/internal/leaktest"
	"github.com/ipcord/ipcord/internal/wsproto"
	"github.com/ipcord/ipcord/ipc"
)

// dialectRouter is the router every dialect transcript runs against: one
// route per outcome a dialect must map.
func dialectRouter(t *testing.T, ran *atomic.Int32) *ipc.Router {
	r := ipc.NewRouter()
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(r.HandleFunc("echo", func(ctx context.Context, req *ipc.Request) (any, error) {
		return req.Args, nil
	}))
	must(r.HandleFunc("hello", func(ctx context.Context, req *ipc.Request) (any, error) {
		return "hi", nil
	}))
	must(r.HandleFunc("fail", func(ctx context.Context, req *ipc.Request) (any, error) {
		return nil, errors.New("boom: secret internals")
	}))
	must(r.HandleFunc("coded", func(ctx context.Context, req *ipc.Request) (any, error) {
		return nil, &ipc.Error{Code: "guild_not_found", Message: "no such guild"}
	}))
	must(r.HandleFunc("unencodable", func(ctx context.Context, req *ipc.Request) (any, error) {
		return make(chan int), nil
	}))
	must(r.HandleFunc("count", func(ctx context.Context, req *ipc.Request) (any, error) {
		if ran != nil {
			return ran.Add(1), nil
		}
		return 0, nil
	}))
	// floats reports the non-finite numbers a Python peer sent, as Go
	// formats them; whole cannot hold one.
	must(r.Handle("floats", ipc.Func(func(ctx context.Context, a struct {
		X, Y, Z float64
		A       any
	}) ([]string, error) {
		f := func(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }
		return []string{f(a.X), f(a.Y), f(a.Z), fmt.Sprint(a.A)}, nil
	})))
	must(r.Handle("whole", ipc.Func(func(ctx context.Context, a struct{ N int }) (int, error) {
		return a.N, nil
	})))
	// Names a Python bot really has: only the dialects can reach them.
	for _, name := range []string{"get stats", "guilds/count", "статистика"} {
		must(r.HandleFunc(name, func(ctx context.Context, req *ipc.Request) (any, error) {
			return req.Route, nil
		}))
	}
	// slow answers after ms milliseconds (or when its context ends), so a
	// later fast request finishes first.
	must(r.HandleFunc("slow", func(ctx context.Context, req *ipc.Request) (any, error) {
		var a struct{ MS int }
		json.Unmarshal(req.Args, &a)
		t := time.NewTimer(time.Duration(a.MS) * time.Millisecond)
		defer t.Stop()
		select {
		case <-t.C:
			return map[string]int{"slept": a.MS}, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}))
	return r
}

// plainDial opens a WebSocket to wsURL without the ipcord.v1 subprotocol
// (how the Python libraries connect), sending header with the upgrade.
func plainDial(t *testing.T, wsURL string, header http.Header) *rawClient {
	t.Helper()
	u, _ := url.Parse(wsURL)
	rc, _ := upgrade(t, &wsproto.Request{URL: u, Key: wsproto.NewKey(), Header: header}, wsproto.Decoder{Role: wsproto.Client, MaxMessage: 8 << 20})
	return rc
}

// next returns the next message of any kind (pings included, and
// answered) before d.
func (rc *rawClient) next(d time.Duration) (wsproto.Message, error) {
	rc.nc.SetReadDeadline(time.Now().Add(d))
	for {
		m, ok, err := rc.dec.Next()
		if err != nil {
			return m, err
		}
		if ok {
			m.Payload = append([]byte(nil), m.Payload...)
			if m.Op == wsproto.OpPing {
				rc.sendFrame(wsproto.OpPong, m.Payload)
			}
			return m, nil
		}
		if _, err := rc.dec.ReadFrom(rc.nc); err != nil {
			return m, err
		}
	}
}

// nextData returns the next text, binary or close message before d,
// answering and skipping pings and pongs: a server that pings but never
// answers still fails the wait in time.
func (rc *rawClient) nextData(d time.Duration) (wsproto.Message, error) {
	deadline := time.Now().Add(d)
	for {
		m, err := rc.next(time.Until(deadline))
		if err != nil || (m.Op != wsproto.OpPing && m.Op != wsproto.OpPong) {
			return m, err
		}
	}
}

// transcript is a golden exchange, one step a line:
//
//	> JSON         the client sends JSON
//	< JSON         the server must send JSON (compared as values; a string
//	               "$name" binds a value on first sight and must match after;
//	               "$name" in a sent line is replaced by its value)
//	close CODE     the server must close with CODE
//	quiet MS       the server must send nothing, not even a ping, for MS ms
//	call ID ROUTE JSON   the server calls ROUTE on client ID in the background
//	result JSON    that call's result must be JSON
//	error CODE     that call must fail with an *ipc.Error of CODE
//	reconnect      a new connection replaces the current one
//	second         open another connection (as the same kind of client), and
//	               run the following steps on it
//	first          go back to the first connection
//
// "#" starts a comment; a blank line is ignored.
type transcript struct {
	name  string
	steps []step
}

type step struct {
	line int
	op   string
	arg  string
}

func loadTranscripts(t *testing.T, dir string) []transcript {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", dir, "*.txt"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no transcripts in testdata/%s: %v", dir, err)
	}
	var out []transcript
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		tr := transcript{name: strings.TrimSuffix(filepath.Base(f), ".txt")}
		for i, l := range strings.Split(string(b), "\n") {
			l = strings.TrimSpace(l)
			if l == "" || strings.HasPrefix(l, "#") {
				continue
			}
			op, arg, _ := strings.Cut(l, " ")
			tr.steps = append(tr.steps, step{line: i + 1, op: op, arg: strings.TrimSpace(arg)})
		}
		out = append(out, tr)
	}
	return out
}

// vars holds the "$name" bindings of one transcript run.
type vars map[string]any

func (v vars) expand(s string) string {
	for k, val := range v {
		b, _ := json.Marshal(val)
		s = strings.ReplaceAll(s, `"$`+k+`"`, string(b))
	}
	return s
}

// match compares want (with $bindings) against got, binding as it goes.
func (v vars) match(want, got any) bool {
	if s, ok := want.(string); ok && strings.HasPrefix(s, "$") {
		name := s[1:]
		if prev, ok := v[name]; ok {
			return reflect.DeepEqual(prev, got)
		}
		v[name] = got
		return true
	}
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok || len(g) != len(w) {
			return false
		}
		for k, wv := range w {
			gv, ok := g[k]
			if !ok || !v.match(wv, gv) {
				return false
			}
		}
		return true
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return false
		}
		for i := range w {
			if !v.match(w[i], g[i]) {
				return false
			}
		}
		return true
	}
	if w, ok := want.(float64); ok && math.IsNaN(w) {
		g, ok := got.(float64)
		return ok && math.IsNaN(g)
	}
	return reflect.DeepEqual(want, got)
}

// decodeAny decodes a transcript line or a message, which may be JSON as
// Python writes it (NaN, Infinity, -Infinity).
func decodeAny(t *testing.T, line int, s string) any {
	t.Helper()
	var v any
	if err := (&ipc.Request{Args: json.RawMessage(s)}).Decode(&v); err != nil || s == "" {
		t.Fatalf("line %d: bad JSON in transcript: %q: %v", line, s, err)
	}
	return v
}

// replayAgainstServer plays tr's client lines against srv and checks every
// server line.
func replayAgainstServer(t *testing.T, srv *ipc.Server, wsURL string, header http.Header, tr transcript) {
	v := vars{}
	conns := []*rawClient{plainDial(t, wsURL, header)}
	pc := conns[0]
	type callResult struct {
		data json.RawMessage
		err  error
	}
	var calls chan callResult
	for _, st := range tr.steps {
		switch st.op {
		case ">":
			pc.send(v.expand(st.arg))
		case "<":
			m, err := pc.nextData(5 * time.Second)
			if err != nil {
				t.Fatalf("line %d: waiting for %s: %v", st.line, st.arg, err)
			}
			if m.Op != wsproto.OpText {
				t.Fatalf("line %d: got %v (close %d %q), want %s", st.line, m.Op, m.CloseCode, m.CloseReason, st.arg)
			}
			if !v.match(decodeAny(t, st.line, st.arg), decodeAny(t, st.line, string(m.Payload))) {
				t.Fatalf("line %d:\n got  %s\n want %s", st.line, m.Payload, st.arg)
			}
		case "close":
			want, _ := strconv.Atoi(st.arg)
			for {
				m, err := pc.next(5 * time.Second)
				if err != nil {
					t.Fatalf("line %d: waiting for close %d: %v", st.line, want, err)
				}
				if m.Op == wsproto.OpClose {
					if int(m.CloseCode) != want {
						t.Fatalf("line %d: close %d %q, want %d", st.line, m.CloseCode, m.CloseReason, want)
					}
					break
				}
				if m.Op == wsproto.OpText {
					t.Fatalf("line %d: got %s, want close %d", st.line, m.Payload, want)
				}
			}
		case "quiet":
			ms, _ := strconv.Atoi(st.arg)
			if m, err := pc.next(time.Duration(ms) * time.Millisecond); err == nil {
				t.Fatalf("line %d: server sent %v %q during a quiet period", st.line, m.Op, m.Payload)
			} else if ne, ok := err.(net.Error); !ok || !ne.Timeout() {
				t.Fatalf("line %d: connection ended during a quiet period: %v", st.line, err)
			}
		case "call":
			fields := strings.SplitN(st.arg, " ", 3)
			id, route, args := fields[0], fields[1], json.RawMessage(fields[2])
			calls = make(chan callResult, 1)
			go func() {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				var out json.RawMessage
				err := srv.Call(ctx, id, route, args, &out)
				calls <- callResult{out, err}
			}()
		case "result", "error":
			var r callResult
			select {
			case r = <-calls:
			case <-time.After(5 * time.Second):
				t.Fatalf("line %d: the server's call did not return", st.line)
			}
			if st.op == "result" {
				if r.err != nil {
					t.Fatalf("line %d: call failed: %v", st.line, r.err)
				}
				if !v.match(decodeAny(t, st.line, st.arg), decodeAny(t, st.line, string(r.data))) {
					t.Fatalf("line %d: result %s, want %s", st.line, r.data, st.arg)
				}
			} else {
				var e *ipc.Error
				if !errors.As(r.err, &e) || e.Code != st.arg {
					t.Fatalf("line %d: call error %v, want code %s", st.line, r.err, st.arg)
				}
			}
		case "second":
			conns = append(conns, plainDial(t, wsURL, header))
			pc = conns[len(conns)-1]
		case "first":
			pc = conns[0]
		case "reconnect":
			pc.nc.Close()
			conns[0] = plainDial(t, wsURL, header)
			pc = conns[0]
		default:
			t.Fatalf("line %d: unknown step %q", st.line, st.op)
		}
	}
}

// dialectServer starts a server for the dialect tests.
func dialectServer(t *testing.T, mod func(*ipc.Server)) (*ipc.Server, string, *atomic.Int32) {
	ran := new(atomic.Int32)
	srv := &ipc.Server{Router: dialectRouter(t, ran), Secret: secret, PingInterval: 20 * time.Millisecond}
	if mod != nil {
		mod(srv)
	}
	return srv, startServer(t, srv), ran
}

func TestTranscriptsServer(t *testing.T) {
	for _, dialect := range []string{"extipc", "betteripc", "zonis"} {
		for _, tr := range loadTranscripts(t, dialect) {
			t.Run(dialect+"/"+tr.name, func(t *testing.T) {
				leaktest.Check(t)
				srv, u, _ := dialectServer(t, func(s *ipc.Server) { s.ZonisOverrideKey = "over" })
				var h http.Header
				if dialect == "betteripc" {
					h = http.Header{"ID": {"dash-1"}}
				}
				replayAgainstServer(t, srv, u, h, tr)
			})
		}
	}
}

func TestDialectUnrecognised(t *testing.T) {
	leaktest.Check(t)
	_, u, _ := dialectServer(t, nil)
	for _, first := range []string{`{"hello": 1}`, `not json`, `[1,2]`} {
		pc := plainDial(t, u, nil)
		pc.send(first)
		m, err := pc.next(5 * time.Second)
		if err != nil || m.Op != wsproto.OpClose || m.CloseCode != wsproto.ClosePolicyViolation {
			t.Fatalf("%s: got %v %d %v, want close 1008", first, m.Op, m.CloseCode, err)
		}
	}
}
