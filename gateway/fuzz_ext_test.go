package gateway_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/ipcord/ipcord/discord"

	"github.com/ipcord/ipcord/gateway"
)

// FuzzConn feeds arbitrary server bytes to an open connection: the first
// byte picks the compression and the split size, the rest is the stream.
// Next must never panic and every error must be a typed one. A clone of
// each dispatch, decoded once the Conn's buffers have moved on, gives what
// the dispatch itself gave.
func FuzzConn(f *testing.F) {
	f.Fuzz(func(t *testing.T, in []byte) {
		type kept struct {
			clone  gateway.Dispatch
			v      any
			failed bool
		}
		var clones []kept
		defer func() {
			for _, k := range clones {
				var v any
				err := k.clone.Decode(&v)
				if (err != nil) != k.failed || err == nil && !reflect.DeepEqual(v, k.v) {
					t.Fatalf("clone of seq %d decoded %v (%v), the dispatch %v (failed %v)", k.clone.Seq, v, err, k.v, k.failed)
				}
			}
		}()
		if len(in) == 0 {
			return
		}
		comp := gateway.Compression(in[0] % 3)
		step := 1 + int(in[0]>>2)
		c, err := gateway.New(gateway.Config{Token: "t", Compression: comp, MaxMessage: 1 << 20})
		if err != nil {
			t.Fatal(err)
		}
		d, err := c.Connect()
		if err != nil {
			t.Fatal(err)
		}
		c.Receive(acceptReply(t, d))
		stream := in[1:]
		for len(stream) > 0 {
			n := min(step, len(stream))
			c.Receive(stream[:n])
			stream = stream[n:]
			for {
				ev, err := c.Next()
				if err != nil {
					if !errors.Is(err, gateway.ErrDecompress) && !errors.Is(err, gateway.ErrDecode) &&
						!errors.Is(err, gateway.ErrMessageTooBig) && !errors.Is(err, gateway.ErrProtocol) && !errors.Is(err, gateway.ErrHandshake) &&
						!errors.Is(err, gateway.ErrClosed) && !errors.Is(err, gateway.ErrPayloadTooLarge) {
						t.Fatalf("untyped error %v", err)
					}
					return
				}
				if ev == nil {
					break
				}
				if h, ok := ev.(*gateway.Hello); ok && !h.Resuming {
					_ = c.Identify()
				}
				dp, ok := ev.(*gateway.Dispatch)
				if r, isReady := ev.(*gateway.Ready); isReady {
					dp, ok = &r.Dispatch, true
				}
				if ok {
					k := kept{clone: dp.Clone()}
					k.failed = dp.Decode(&k.v) != nil
					clones = append(clones, k)
				}
			}
			c.Output()
		}
	})
}

// FuzzDispatchDecode checks that typed decoding of hostile data returns
// typed errors, never panics, and accepts what encoding/json accepts.
func FuzzDispatchDecode(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, mk := range []func() any{
			func() any { return new(discord.Message) },
			func() any { return new(discord.Guild) },
			func() any { return new(discord.Member) },
		} {
			d := gateway.Dispatch{Name: "X", Data: data}
			err := d.Decode(mk())
			if err != nil && !errors.Is(err, gateway.ErrDecode) {
				t.Fatalf("untyped error %v", err)
			}
			if err != nil && json.Unmarshal(data, mk()) == nil {
				t.Fatalf("encoding/json accepts %q, Decode refuses it: %v", data, err)
			}
		}
	})
}
