package ipc_test

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/ipcord/ipcord/internal/leaktest"
	"github.com/ipcord/ipcord/ipc"
)

// zonisIdentified answers the IDENTIFY a Go Zonis client sends first, as
// the Python server does.
func zonisIdentified(t *testing.T, pc *pyConn) {
	t.Helper()
	m, err := pc.next()
	if err != nil {
		t.Fatalf("reading IDENTIFY: %v", err)
	}
	var f struct {
		PacketID string `json:"packet_id"`
		Data     struct{ Identifier string }
	}
	json.Unmarshal(m.Payload, &f)
	pc.send(`{"packet_id": "` + f.PacketID + `", "type": "response", "data": {"identifier": "` + f.Data.Identifier + `", "type": "IDENTIFY", "data": null}}`)
}

// A Python server's route returning float('nan') or float('inf'): the Go
// client decodes them into floats and interfaces, and fails the call
// (ErrNonFinite, not a zero) where the result's type cannot hold them.
func TestDialectClientReadsPythonJSON(t *testing.T) {
	replies := map[ipc.Dialect]string{
		ipc.ExtIPC:    `{"ratio": NaN, "max": Infinity, "all": [-Infinity]}`,
		ipc.BetterIPC: `{"decoding": "JSON", "code": 200, "response": "{\"ratio\": NaN, \"max\": Infinity, \"all\": [-Infinity]}"}`,
		ipc.Zonis:     `{"packet_id": "$pid", "type": "response", "data": {"identifier": "SERVER", "type": "SUCCESS_RESPONSE", "data": {"ratio": NaN, "max": Infinity, "all": [-Infinity]}}}`,
	}
	for _, d := range []ipc.Dialect{ipc.ExtIPC, ipc.BetterIPC, ipc.Zonis} {
		t.Run(string(d), func(t *testing.T) {
			leaktest.Check(t)
			ps := startPyServer(t)
			served := make(chan struct{})
			go func() {
				defer close(served)
				pc := ps.accept()
				if d == ipc.Zonis {
					zonisIdentified(t, pc)
				}
				for range 2 {
					m, err := pc.next()
					if err != nil {
						return
					}
					var f struct {
						PacketID string `json:"packet_id"`
					}
					json.Unmarshal(m.Payload, &f)
					pc.send(strings.ReplaceAll(replies[d], "$pid", f.PacketID))
				}
			}()
			c := dialDialect(t, d, ps.url)
			ctx := ctxTimeout(t, 5*time.Second)
			got, err := ipc.CallAs[struct {
				Ratio float64
				Max   float32
				All   []any
			}](ctx, c, "stats", nil)
			if err != nil || !math.IsNaN(got.Ratio) || !math.IsInf(float64(got.Max), 1) || len(got.All) != 1 || got.All[0] != math.Inf(-1) {
				t.Fatalf("got %+v, %v", got, err)
			}
			_, err = ipc.CallAs[struct{ Ratio int }](ctx, c, "stats", nil)
			if !errors.Is(err, ipc.ErrNonFinite) || !strings.Contains(err.Error(), "NaN at .ratio cannot be held by int") {
				t.Fatalf("into an int: %v, want ErrNonFinite naming the field", err)
			}
			<-served
		})
	}
}

// A Python Zonis peer sends no reply when its route raises: the call ends
// at its deadline, and the error says what most likely happened.
func TestZonisUnansweredCallSaysWhy(t *testing.T) {
	leaktest.Check(t)
	check := func(t *testing.T, err error, route string) {
		t.Helper()
		if !errors.Is(err, ipc.ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) ||
			!strings.Contains(err.Error(), `no reply to "`+route+`" before the deadline`) ||
			!strings.Contains(err.Error(), "sends none when the route raises") {
			t.Fatalf("got %v, want a timeout saying a raising route sends no reply", err)
		}
	}
	t.Run("server calls a bot", func(t *testing.T) {
		// The bot does not read while the call waits: no pings to answer.
		srv, u, _ := dialectServer(t, func(s *ipc.Server) { s.PingInterval = -1 })
		zonisBot(t, u, "bot")
		start := time.Now()
		// The context's deadline and the server's CallTimeout both end it.
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		check(t, srv.Call(ctx, "bot", "boom", nil, nil), "boom")
		if took := time.Since(start); took > 3*time.Second {
			t.Fatalf("took %v", took)
		}
	})
	t.Run("bot calls a server", func(t *testing.T) {
		ps := startPyServer(t)
		go func() {
			pc := ps.accept()
			zonisIdentified(t, pc)
			pc.next() // the request, never answered
		}()
		c := dial(t, ipc.ClientConfig{URL: ps.url, Dialect: ipc.Zonis, CallTimeout: 200 * time.Millisecond})
		check(t, c.Call(context.Background(), "boom", nil, nil), "boom")
	})
}
