package discordtest

import (
	"bytes"
	"compress/zlib"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/ipcord/ipcord/internal/leaktest"
	"github.com/ipcord/ipcord/internal/wsproto"
)

// floodEvents are a small event, one past bigPart (written from where it
// is) and one whose data the caller changes after NewEvent.
func floodEvents(t *testing.T) ([]*Event, []string) {
	t.Helper()
	big := `{"content":"` + strings.Repeat("load ", 1000) + `"}`
	raw := json.RawMessage(`{"n":1}`)
	var evs []*Event
	for _, e := range []struct {
		name string
		data any
	}{{"TYPING_START", map[string]int{"i": 7}}, {"MESSAGE_CREATE", json.RawMessage(big)}, {"X_RAW", raw}} {
		ev, err := NewEvent(e.name, e.data)
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, ev)
	}
	raw[5] = '2' // the Event kept its own copy
	return evs, []string{`{"i":7}`, big, `{"n":1}`}
}

// wantPayload is a dispatch as Discord sends it, built without the fake's
// encoder.
func wantPayload(seq int64, name, data string) string {
	return fmt.Sprintf(`{"op":0,"s":%d,"t":%q,"d":%s}`, seq, name, data)
}

func TestFloodDeliversInOrder(t *testing.T) {
	for _, comp := range []string{"", compressZlib, compressZstd} {
		t.Run("compress="+comp, func(t *testing.T) {
			leaktest.Check(t)
			ctx := testCtx(t)
			g := startGateway(t, &Gateway{})
			q := "v=10"
			if comp != "" {
				q += "&compress=" + comp
			}
			c := mustDial(t, g.URL(), q)
			c.identify(ctx, 0, 1)
			evs, datas := floodEvents(t)
			const n = 2000
			done := make(chan error, 1)
			go func() {
				last, err := g.Flood(ctx, 0, evs, n)
				if err == nil && last != n+1 {
					err = fmt.Errorf("Flood returned seq %d, want %d", last, n+1)
				}
				done <- err
			}()
			for i := range n {
				p := c.mustRead(ctx)
				k := i % len(evs)
				if *p.S != int64(i+2) || p.T != evs[k].Name() || string(p.D) != datas[k] {
					t.Fatalf("dispatch %d: s=%d t=%s d=%.40s", i, *p.S, p.T, p.D)
				}
			}
			if err := <-done; err != nil {
				t.Fatal(err)
			}
		})
	}
}

// A client that stops reading stops the flood: the fake does not queue
// what the client has not taken.
func TestFloodWaitsForTheClient(t *testing.T) {
	leaktest.Check(t)
	g := startGateway(t, &Gateway{})
	c := rawDial(t, g.URL(), "v=10")
	c.next()
	c.send(identifyPayload("tok", 0, 1, 0))
	c.next()
	ev, err := NewEvent("MESSAGE_CREATE", json.RawMessage(`{"content":"`+strings.Repeat("x", 64<<10)+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	seq, err := g.Flood(ctx, 0, []*Event{ev}, 1_000_000)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Flood = %d, %v; want it held until the deadline", seq, err)
	}
	// 64 MiB would be 1,000 events: the window and the socket's buffers
	// hold far fewer.
	if seq > 1000 {
		t.Fatalf("%d events of 64 KiB dispatched to a client that reads nothing", seq)
	}
}

// A flood survives a reconnect: the client resumes and gets every event
// once, in order.
func TestFloodAcrossResume(t *testing.T) {
	leaktest.Check(t)
	ctx := testCtx(t)
	g := startGateway(t, &Gateway{ReplayLimit: 100_000})
	c := mustDial(t, g.URL(), "v=10")
	r := c.identify(ctx, 0, 1)
	evs, datas := floodEvents(t)
	const n = 3000
	done := make(chan error, 1)
	go func() {
		_, err := g.Flood(ctx, 0, evs, n)
		done <- err
	}()
	seq := int64(1)
	check := func(p payload) {
		t.Helper()
		k := int(seq-1) % len(evs)
		if *p.S != seq+1 || string(p.D) != datas[k] {
			t.Fatalf("after seq %d got s=%d d=%.30s", seq, *p.S, p.D)
		}
		seq++
	}
	for seq < n/3 {
		check(c.mustRead(ctx))
	}
	c.closeNow()
	c = mustDial(t, g.ResumeURL(), "v=10")
	c.mustRead(ctx) // HELLO
	c.mustSend(ctx, resumePayload("tok", r.SessionID, seq))
	for seq < n+1 {
		p := c.mustRead(ctx)
		if p.T == "RESUMED" {
			continue
		}
		check(p)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestFloodErrors(t *testing.T) {
	leaktest.Check(t)
	g := startGateway(t, &Gateway{})
	evs, _ := floodEvents(t)
	if _, err := g.Flood(context.Background(), 0, nil, 1); !errors.Is(err, ErrNoEvents) {
		t.Fatalf("no events: %v", err)
	}
	if _, err := g.Flood(context.Background(), 0, evs, 1); !errors.Is(err, ErrNoSession) {
		t.Fatalf("no session: %v", err)
	}
	if _, err := NewEvent("", nil); !errors.Is(err, ErrBadDispatch) {
		t.Fatalf("no name: %v", err)
	}
	if _, err := NewEvent("X", json.RawMessage(`{`)); !errors.Is(err, ErrBadDispatch) {
		t.Fatalf("bad JSON: %v", err)
	}
	for _, after := range []string{``, `{}`, `[1]`, `{"a":1`, `null`} {
		if _, err := NewEventAfterD("X", nil, json.RawMessage(after)); !errors.Is(err, ErrBadDispatch) {
			t.Fatalf("members after d %q: %v", after, err)
		}
	}
}

// Each compressed message must decode completely on its own, from the
// decompressor's state after the messages before it, as a client reads
// it: never with bytes of the next message. Checked with decoders that are
// not the fake's encoders: the standard library's zlib, and klauspost's
// zstd decoder in streaming mode, one decoder for the connection. (The
// e2e/clients test checks zstd-stream with libzstd too.)
func TestCompressedMessagesDecodeAlone(t *testing.T) {
	for _, comp := range []string{compressZlib, compressZstd} {
		t.Run(comp, func(t *testing.T) {
			leaktest.Check(t)
			g := startGateway(t, &Gateway{})
			c := rawDial(t, g.URL(), "v=10&compress="+comp)
			var msgs [][]byte
			var want []string
			read := func() {
				m, ok := c.next()
				if !ok || m.Op != wsproto.OpBinary {
					t.Fatalf("message %d: %+v %v", len(msgs), m, ok)
				}
				msgs = append(msgs, m.Payload)
			}
			read() // HELLO
			want = append(want, "")
			c.send(identifyPayload("tok", 0, 1, 0))
			read() // READY
			want = append(want, "")
			evs, datas := floodEvents(t)
			if _, err := g.Flood(testCtx(t), 0, evs, 30); err != nil {
				t.Fatal(err)
			}
			if _, err := g.Dispatch(0, "ONE_OFF", map[string]string{"a": "b"}); err != nil {
				t.Fatal(err)
			}
			// A member after d, as Discord might add one.
			traced, err := NewEventAfterD("TRACED", json.RawMessage(`{"a":1}`), json.RawMessage(` {"trace":{"gw":["x"]}} `))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := g.Flood(testCtx(t), 0, []*Event{traced}, 1); err != nil {
				t.Fatal(err)
			}
			// zstd-stream's messages carry whitespace before d's value (see
			// zstdStream).
			pad := ""
			if comp == compressZstd {
				pad = strings.Repeat(" ", 17)
			}
			for i := range 30 {
				read()
				want = append(want, wantPayload(int64(i+2), evs[i%3].Name(), pad+datas[i%3]))
			}
			read()
			want = append(want, wantPayload(32, "ONE_OFF", pad+`{"a":"b"}`))
			read()
			want = append(want, wantPayload(33, "TRACED", pad+`{"a":1},"trace":{"gw":["x"]}`))
			decodeAlone(t, comp, msgs, want)
		})
	}
}

// decodeAlone feeds the messages one by one to one decompressor, and
// reads each payload before the next message is given to it. An empty
// want is a payload checked only for being one whole JSON value.
func decodeAlone(t *testing.T, comp string, msgs [][]byte, want []string) {
	t.Helper()
	in := &gatedReader{next: make(chan []byte, 1), stop: make(chan struct{})}
	defer close(in.stop)
	var r io.Reader // made by the first reader: zlib's reads its header
	for i, m := range msgs {
		in.next <- m
		got := make(chan []byte, 1)
		go func() {
			if r == nil {
				var err error
				switch comp {
				case compressZlib:
					r, err = zlib.NewReader(in)
				case compressZstd:
					r, err = zstd.NewReader(in, zstd.WithDecoderConcurrency(1))
				}
				if err != nil {
					got <- []byte(err.Error())
					return
				}
			}
			// A payload's length is known only when it is wanted; else read
			// until a whole JSON value is out.
			if want[i] != "" {
				b := make([]byte, len(want[i]))
				if _, err := io.ReadFull(r, b); err != nil {
					b = []byte(err.Error())
				}
				got <- b
				return
			}
			var b []byte
			one := make([]byte, 1)
			for !json.Valid(b) {
				if _, err := r.Read(one); err != nil {
					got <- []byte(err.Error())
					return
				}
				b = append(b, one...)
			}
			got <- b
		}()
		select {
		case b := <-got:
			if want[i] != "" && string(b) != want[i] || want[i] == "" && !json.Valid(b) {
				t.Fatalf("message %d decoded as %.80q, want %.80q", i, b, want[i])
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("message %d did not decode without the next one", i)
		}
	}
	if d, ok := r.(*zstd.Decoder); ok {
		d.Close()
	}
}

// gatedReader hands out the bytes of one message at a time, and blocks
// for the next one only once the decoder has taken all of them.
type gatedReader struct {
	next chan []byte
	stop chan struct{}
	buf  []byte
}

func (g *gatedReader) Read(p []byte) (int, error) {
	for len(g.buf) == 0 {
		select {
		case b := <-g.next:
			g.buf = bytes.Clone(b)
		case <-g.stop:
			return 0, io.EOF
		}
	}
	n := copy(p, g.buf)
	g.buf = g.buf[n:]
	return n, nil
}
