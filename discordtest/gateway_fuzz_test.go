package discordtest

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"testing"

	"github.com/ipcord/ipcord/internal/wsproto"
)

// offlineGateway is a started Gateway without listeners, for driving the
// session logic directly.
func offlineGateway() *Gateway {
	g := &Gateway{Token: "tok"}
	g.initLocked()
	g.state = stateRunning
	return g
}

// closeCodesSent are the only codes the fake may answer a payload with.
var closeCodesSent = map[int]bool{
	closeUnknownOpcode: true, closeDecodeError: true, closeNotAuth: true, closeAuthFailed: true,
	closeAlreadyAuth: true, closeInvalidSeq: true, closeRateLimited: true, closeInvalidShard: true,
	closeShardingNeeded: true, closeInvalidIntents: true, closeDisallowIntents: true,
}

func queuedClose(c *gwConn) int {
	c.qmu.Lock()
	defer c.qmu.Unlock()
	for _, it := range c.queue {
		if it.kind == outClose {
			return it.code
		}
	}
	return 0
}

// FuzzGatewayPayload feeds up to eight newline-separated payloads to one
// connection's session logic. Whatever they are, the fake must not panic,
// must close only with a gateway close code, and must close with 4002 for
// a payload that is not a JSON object with an integer op.
func FuzzGatewayPayload(f *testing.F) {
	for _, s := range []string{
		`{"op":1,"d":null}`,
		`{"op":2,"d":{"token":"tok","shard":[0,1],"intents":513}}` + "\n" + `{"op":1,"d":1}`,
		`{"op":6,"d":{"token":"tok","session_id":"x","seq":1}}`,
		`{"op":2,"d":{"token":"tok"}}` + "\n" + `{"op":3,"d":{}}` + "\n" + `{"op":2,"d":{"token":"tok"}}`,
		`{"op":2,"d":{"token":"tok"}}` + "\n" + `{"op":8,"d":{"guild_id":"1","query":"","limit":0,"nonce":"n"}}` + "\n" + `{"op":8,"d":{"guild_id":"1","user_ids":["2"]}}`,
		`{"op":"1"}`, `{"op":1.5}`, `[]`, `null`, `{"op":2,"d":"x"}`, `{"op":2,"d":{"shard":{}}}`,
		`{"op":2,"d":{"token":"tok","intents":-1}}`, `{"op":6,"d":{"seq":"1"}}`, "\xff",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		g := offlineGateway()
		a, b := net.Pipe()
		defer a.Close()
		defer b.Close()
		c := newConn(g, a, 1, MainListener, 10, "")
		parts := bytes.SplitN(in, []byte("\n"), 8)
		for _, p := range parts {
			wasClosing := c.closing
			g.handle(c, p)
			code := queuedClose(c)
			if code != 0 && !closeCodesSent[code] {
				t.Fatalf("closed with %d for %q", code, p)
			}
			if wasClosing {
				continue
			}
			var v struct {
				Op *int `json:"op"`
			}
			if json.Unmarshal(p, &v) != nil || v.Op == nil {
				if code != closeDecodeError {
					t.Fatalf("payload %q: close %d, want 4002", p, code)
				}
				return
			}
			if !c.closing && code != 0 {
				t.Fatalf("close queued but connection not closing")
			}
		}
	})
}

// FuzzGatewayFrames writes raw bytes as a client would, after a valid
// masked IDENTIFY frame, through the real reader and writer goroutines.
// The fake must not panic or hang, whatever the bytes.
func FuzzGatewayFrames(f *testing.F) {
	frame := func(op wsproto.Opcode, fin bool, p string) []byte {
		return wsproto.AppendFrame(nil, wsproto.Client, op, fin, false, [4]byte{1, 2, 3, 4}, []byte(p))
	}
	f.Add(frame(wsproto.OpText, true, `{"op":1,"d":null}`))
	f.Add(append(frame(wsproto.OpText, false, `{"op":1,`), frame(wsproto.OpContinuation, true, `"d":null}`)...))
	f.Add(frame(wsproto.OpPing, true, "hi"))
	f.Add(wsproto.AppendClose(nil, wsproto.Client, [4]byte{9, 9, 9, 9}, 4000, "bye"))
	f.Add(frame(wsproto.OpText, true, "\xff\xfe"))
	f.Add([]byte{0x81, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	f.Add(frame(wsproto.OpBinary, true, `{"op":"x"}`))
	f.Fuzz(func(t *testing.T, in []byte) {
		g := offlineGateway()
		server, client := net.Pipe()
		c := newConn(g, server, 1, MainListener, 10, "")
		g.conns[c] = struct{}{}
		g.wg.Add(2)
		go c.writeLoop()
		go c.readLoop(nil)
		drained := make(chan struct{})
		go func() {
			io.Copy(io.Discard, client)
			close(drained)
		}()
		id := frame(wsproto.OpText, true, `{"op":2,"d":{"token":"tok","shard":[0,1],"intents":1}}`)
		client.Write(append(id, in...))
		client.Close()
		g.wg.Wait()
		<-drained
	})
}
