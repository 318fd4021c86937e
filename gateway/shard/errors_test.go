package shard_test

import (
	"encoding/binary"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ipcord/ipcord/gateway"
	"github.com/ipcord/ipcord/gateway/shard"
	"github.com/ipcord/ipcord/internal/errtest"
	"github.com/ipcord/ipcord/internal/leaktest"
	"github.com/ipcord/ipcord/internal/wsproto"
)

// A server breaking the protocol over a real socket: the shard reports it
// in Status.LastError as a *gateway.ProtocolError, hands the handler
// nothing and keeps no session from it.
func TestProtocolViolationsOverSocket(t *testing.T) {
	huge := []byte{0x81, 127, 0, 0, 0, 0, 0, 0, 0, 0}
	binary.BigEndian.PutUint64(huge[2:], 1<<40)
	text := func(s string) []byte {
		return wsproto.AppendFrame(nil, wsproto.Server, wsproto.OpText, true, false, [4]byte{}, []byte(s))
	}
	for _, tc := range []struct {
		name  string
		greet []byte
		is    error
		code  gateway.CloseCode
	}{
		{"frame of 2^40 bytes", huge, gateway.ErrMessageTooBig, 1009},
		{"READY before HELLO", text(`{"op":0,"s":1,"t":"READY","d":{"session_id":"evil","resume_gateway_url":"ws://127.0.0.1:1"}}`), gateway.ErrProtocol, 1002},
		{"dispatch before HELLO", text(`{"op":0,"s":9,"t":"MESSAGE_CREATE","d":{}}`), gateway.ErrProtocol, 1002},
	} {
		t.Run(tc.name, func(t *testing.T) {
			leaktest.Check(t)
			var conns atomic.Int32
			url := rawServer(t, &conns, tc.greet)
			e := startShard(t, nil, func(c *shard.Config) {
				c.Gateway = gatewayConfig(url)
				c.Backoff = shard.Backoff{Base: time.Second}
			})
			poll(t, 5*time.Second, "the connection to fail", func() bool { return e.s.Status().LastError != nil })
			err := e.s.Status().LastError
			var pe *gateway.ProtocolError
			if !errors.Is(err, tc.is) || !errors.As(err, &pe) || pe.Code != tc.code {
				t.Fatalf("LastError = %v, want a %d *gateway.ProtocolError matching %v", err, tc.code, tc.is)
			}
			errtest.Exported(t, err)
			if evs := e.rec.snapshot(); len(evs) != 0 {
				t.Fatalf("handler got %s", summary(evs))
			}
			if s := e.s.Status(); s.Seq != 0 {
				t.Fatalf("Status.Seq = %d after a refused dispatch", s.Seq)
			}
			e.cancel()
			e.runErr(t, 5*time.Second)
			if sess := e.s.Session(); sess.Valid() {
				t.Fatalf("session %+v kept from a refused READY", sess)
			}
		})
	}
}
