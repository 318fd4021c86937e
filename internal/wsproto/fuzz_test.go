package wsproto_test

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"errors"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/ipcord/ipcord/internal/wsproto"
)

// decodeAll runs data through a copy of d in the given pieces.
func decodeAll(d wsproto.Decoder, data []byte, cuts []int) ([]msg, error) {
	return decodeInto(&d, data, cuts)
}

func sameError(a, b error) bool {
	if a == nil || b == nil {
		return a == b
	}
	var pa, pb *wsproto.ProtocolError
	return errors.As(a, &pa) && errors.As(b, &pb) && *pa == *pb
}

// FuzzDecoder feeds arbitrary bytes to a decoder of either role, whole, in
// random pieces, one byte at a time and through ReadFrom, and checks the
// four agree, stay within the limits, and that every message survives
// being encoded again.
func FuzzDecoder(f *testing.F) {
	data, _ := stream(wsproto.Server, 300)
	f.Add(data, false, uint64(1), uint16(0), false)
	data, _ = stream(wsproto.Client, 300)
	f.Add(data, true, uint64(2), uint16(200), true)
	f.Add([]byte{0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 1}, false, uint64(3), uint16(0), false)
	f.Fuzz(func(t *testing.T, data []byte, server bool, seed uint64, limit uint16, strict bool) {
		d := wsproto.Decoder{Role: wsproto.Client, MaxMessage: int(limit), AllowRSV1: strict, ValidateUTF8: strict}
		if server {
			d.Role = wsproto.Server
		}
		max := int(limit)
		if max == 0 {
			max = wsproto.DefaultMaxMessage
		}
		whole, wholeErr := decodeAll(d, data, nil)
		if wholeErr != nil && !errors.Is(wholeErr, wsproto.ErrProtocol) {
			t.Fatalf("error %v is not a ProtocolError", wholeErr)
		}
		for _, m := range whole {
			switch m.Op {
			case wsproto.OpText, wsproto.OpBinary:
				if len(m.Payload) > max {
					t.Fatalf("%d-byte message over the %d limit", len(m.Payload), max)
				}
			case wsproto.OpClose, wsproto.OpPing, wsproto.OpPong:
				if len(m.Payload) > 125 {
					t.Fatalf("%d-byte control frame", len(m.Payload))
				}
			default:
				t.Fatalf("opcode %d returned", m.Op)
			}
		}

		rng := rand.New(rand.NewPCG(seed, 7))
		var cuts []int
		for c := rng.IntN(8); c < len(data); c += 1 + rng.IntN(16) {
			cuts = append(cuts, c)
		}
		var ones []int
		for i := 1; i < len(data); i++ {
			ones = append(ones, i)
		}
		for name, cs := range map[string][]int{"random pieces": cuts, "one byte": ones} {
			got, err := decodeAll(d, data, cs)
			if !sameError(err, wholeErr) || len(got) != len(whole) {
				t.Fatalf("%s: %d messages, err %v; whole: %d messages, err %v", name, len(got), err, len(whole), wholeErr)
			}
			for i := range got {
				if got[i] != whole[i] {
					t.Fatalf("%s: message %d differs", name, i)
				}
			}
		}

		rd := d
		var viaRead []msg
		src := iotest.HalfReader(bytes.NewReader(data))
		var readErr error
		for readErr == nil {
			if _, err := rd.ReadFrom(src); err != nil {
				break
			}
			var ms []msg
			ms, readErr = drain(&rd)
			viaRead = append(viaRead, ms...)
		}
		if !sameError(readErr, wholeErr) || len(viaRead) != len(whole) {
			t.Fatalf("ReadFrom: %d messages, err %v; whole: %d messages, err %v", len(viaRead), readErr, len(whole), wholeErr)
		}

		// Re-encode what was decoded, as the peer would, and decode again.
		sender := wsproto.Role(1 - d.Role)
		var again []byte
		for _, m := range whole {
			if m.Op == wsproto.OpClose {
				code := m.Code
				if code == wsproto.CloseNoStatus {
					code = 0
				}
				again = wsproto.AppendClose(again, sender, wsproto.MaskKey(), code, m.Reason)
				continue
			}
			again = wsproto.AppendFrame(again, sender, m.Op, true, m.Compressed, wsproto.MaskKey(), []byte(m.Payload))
		}
		re, err := decodeAll(d, again, nil)
		if err != nil || len(re) != len(whole) {
			t.Fatalf("re-encoded: %d messages, err %v; want %d", len(re), err, len(whole))
		}
		for i := range re {
			if re[i] != whole[i] {
				t.Fatalf("re-encoded message %d: %+v, want %+v", i, re[i], whole[i])
			}
		}
	})
}

// FuzzRoundTrip encodes a message in random fragments with a ping between
// them and checks the decoder returns exactly what was sent.
func FuzzRoundTrip(f *testing.F) {
	f.Add([]byte("Hello"), true, false, uint64(1), uint8(1))
	f.Add(bytes.Repeat([]byte{0xaa}, 300), false, true, uint64(2), uint8(5))
	f.Add([]byte{}, true, true, uint64(3), uint8(0))
	f.Fuzz(func(t *testing.T, payload []byte, text, clientSends bool, seed uint64, parts uint8) {
		sender, local := wsproto.Server, wsproto.Client
		if clientSends {
			sender, local = wsproto.Client, wsproto.Server
		}
		op := wsproto.OpBinary
		if text {
			op = wsproto.OpText
		}
		rng := rand.New(rand.NewPCG(seed, 9))
		var wire []byte
		rest, first := payload, true
		for n := int(parts % 8); ; n-- {
			cut := len(rest)
			if n > 0 && len(rest) > 0 {
				cut = rng.IntN(len(rest) + 1)
			}
			fop := wsproto.OpContinuation
			if first {
				fop = op
			}
			fin := cut == len(rest)
			wire = wsproto.AppendFrame(wire, sender, fop, fin, false, wsproto.MaskKey(), rest[:cut])
			rest, first = rest[cut:], false
			if fin {
				break
			}
			wire = wsproto.AppendFrame(wire, sender, wsproto.OpPing, true, false, wsproto.MaskKey(), []byte("k"))
		}
		d := wsproto.Decoder{Role: local, MaxMessage: len(payload) + 1}
		got, err := decodeAll(d, wire, nil)
		if err != nil || len(got) == 0 {
			t.Fatalf("%d messages, err %v", len(got), err)
		}
		last := got[len(got)-1]
		if last.Op != op || last.Payload != string(payload) {
			t.Fatalf("decoded %s of %d bytes, want %s of %d", last.Op, len(last.Payload), op, len(payload))
		}
		for _, m := range got[:len(got)-1] {
			if m.Op != wsproto.OpPing || m.Payload != "k" {
				t.Fatalf("unexpected %+v before the message", m)
			}
		}
	})
}

// FuzzParseResponse parses arbitrary server replies and checks the
// contract: never a panic, errors are ErrHandshake, a success consumes a
// prefix of the input and stays the same when more bytes follow.
func FuzzParseResponse(f *testing.F) {
	key := "dGhlIHNhbXBsZSBub25jZQ=="
	f.Add([]byte(goodResponse(key, "Sec-WebSocket-Protocol: ipcord.v1\r\n")+"\x81\x00"), key)
	f.Add([]byte("HTTP/1.1 403 Forbidden\r\nContent-Length: 4\r\n\r\nnope"), key)
	f.Add([]byte("HTTP/1.0 101 OK\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n"), "")
	f.Fuzz(func(t *testing.T, buf []byte, key string) {
		req := &wsproto.Request{Key: key, Subprotocols: []string{"ipcord.v1"}, Extensions: "x"}
		resp, n, ok, err := wsproto.ParseResponse(buf, req)
		if err != nil {
			if ok || !errors.Is(err, wsproto.ErrHandshake) {
				t.Fatalf("ok=%v with error %v (ErrHandshake: %v)", ok, err, errors.Is(err, wsproto.ErrHandshake))
			}
			var he *wsproto.HandshakeError
			if errors.As(err, &he) && (resp == nil || he.Status == 101 || n > len(buf)) {
				t.Fatalf("refusal %+v with resp %v, n=%d of %d", he, resp, n, len(buf))
			}
			return
		}
		if !ok {
			if resp != nil || n != 0 || len(buf) >= wsproto.MaxResponseHeader {
				t.Fatalf("incomplete with resp=%v n=%d len=%d", resp, n, len(buf))
			}
			return
		}
		if resp.Status != 101 || n < 4 || n > len(buf) || string(buf[n-4:n]) != "\r\n\r\n" {
			t.Fatalf("success with status %d, n=%d of %d", resp.Status, n, len(buf))
		}
		resp2, n2, ok2, err2 := wsproto.ParseResponse(append(bytes.Clone(buf), "\x81\x05trail"...), req)
		if !ok2 || err2 != nil || n2 != n || resp2.Subprotocol != resp.Subprotocol {
			t.Fatalf("with trailing frame bytes: n=%d ok=%v err=%v, want n=%d", n2, ok2, err2, n)
		}
	})
}

// FuzzCheckRequest parses arbitrary upgrade requests with net/http and
// checks CheckRequest's contract: a key of 16 bytes in base64 on success,
// a 400 or 426 HandshakeError otherwise, and a reply that our own client
// accepts.
func FuzzCheckRequest(f *testing.F) {
	f.Add([]byte("GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: a, b\r\n\r\n"))
	f.Add([]byte("GET / HTTP/1.1\r\nHost: x\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\n"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		r, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(raw)))
		if err != nil {
			return
		}
		key, err := wsproto.CheckRequest(r)
		if err != nil {
			var he *wsproto.HandshakeError
			if !errors.As(err, &he) || (he.Status != 400 && he.Status != 426) || key != "" {
				t.Fatalf("refusal %v with key %q", err, key)
			}
			return
		}
		if k, err := base64.StdEncoding.DecodeString(key); err != nil || len(k) != 16 {
			t.Fatalf("accepted key %q", key)
		}
		subs := wsproto.Subprotocols(r)
		sub := ""
		if len(subs) > 0 {
			sub = subs[0]
		}
		reply := wsproto.AppendResponse(nil, key, sub, "", nil)
		resp, n, ok, err := wsproto.ParseResponse(reply, &wsproto.Request{Key: key, Subprotocols: subs})
		if !ok || err != nil || n != len(reply) || resp.Subprotocol != strings.TrimSpace(sub) {
			t.Fatalf("our client refused our reply %q: %v", reply, err)
		}
	})
}
