package wsproto_test

import (
	"bytes"
	"io"
	"strconv"
	"testing"

	"github.com/ipcord/ipcord/internal/wsproto"
)

var benchSizes = []int{64, 1 << 10, 64 << 10}

func roleName(r wsproto.Role) string { return r.String() }

// BenchmarkAppendFrame measures encoding into a reused buffer: the client
// role includes masking, the server role is a header plus a copy.
func BenchmarkAppendFrame(b *testing.B) {
	for _, role := range []wsproto.Role{wsproto.Client, wsproto.Server} {
		for _, n := range benchSizes {
			b.Run(roleName(role)+"/"+strconv.Itoa(n), func(b *testing.B) {
				payload := bytes.Repeat([]byte("p"), n)
				dst := make([]byte, 0, n+14)
				key := wsproto.MaskKey()
				b.SetBytes(int64(n))
				b.ReportAllocs()
				for b.Loop() {
					dst = wsproto.AppendFrame(dst[:0], role, wsproto.OpBinary, true, false, key, payload)
				}
			})
		}
	}
}

// BenchmarkDecode measures Feed+Next of one frame at a time. local is the
// decoder's role: a Server decoder unmasks.
func BenchmarkDecode(b *testing.B) {
	for _, local := range []wsproto.Role{wsproto.Client, wsproto.Server} {
		for _, n := range benchSizes {
			b.Run(roleName(local)+"/"+strconv.Itoa(n), func(b *testing.B) {
				f := wsproto.AppendFrame(nil, 1-local, wsproto.OpBinary, true, false, wsproto.MaskKey(), bytes.Repeat([]byte("p"), n))
				d := wsproto.Decoder{Role: local}
				b.SetBytes(int64(n))
				b.ReportAllocs()
				for b.Loop() {
					d.Feed(f)
					m, ok, err := d.Next()
					if !ok || err != nil || len(m.Payload) != n {
						b.Fatalf("ok=%v err=%v", ok, err)
					}
				}
			})
		}
	}
}

// BenchmarkDecodeReadFrom measures the receive path of a connection: one
// Read at a time into the decoder from a reader holding many frames.
func BenchmarkDecodeReadFrom(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			var stream []byte
			payload := bytes.Repeat([]byte("p"), n)
			for len(stream) < 1<<20 {
				stream = wsproto.AppendFrame(stream, wsproto.Server, wsproto.OpBinary, true, false, [4]byte{}, payload)
			}
			r := &loopReader{*bytes.NewReader(stream)}
			d := wsproto.Decoder{Role: wsproto.Client}
			b.SetBytes(int64(n))
			b.ReportAllocs()
			for b.Loop() {
				m, err := readMessage(&d, r)
				if err != nil || len(m.Payload) != n {
					b.Fatalf("payload %d, %v", len(m.Payload), err)
				}
			}
		})
	}
}

// readMessage returns the next message from d, reading from r as needed:
// the receive loop every user of a Decoder writes.
func readMessage(d *wsproto.Decoder, r io.Reader) (wsproto.Message, error) {
	for {
		m, ok, err := d.Next()
		if err != nil || ok {
			return m, err
		}
		if _, err := d.ReadFrom(r); err != nil {
			return m, err
		}
	}
}

// loopReader is a bytes.Reader holding many frames that starts over at
// its end, like a peer that never stops sending.
type loopReader struct{ bytes.Reader }

func (l *loopReader) Read(p []byte) (int, error) {
	if l.Len() == 0 {
		l.Seek(0, io.SeekStart)
	}
	return l.Reader.Read(p)
}

// BenchmarkMask compares the 8-bytes-at-a-time masking (through
// AppendFrame's client role, minus the copy of the server role) with the
// byte-at-a-time loop of the RFC's definition.
func BenchmarkMask(b *testing.B) {
	payload := bytes.Repeat([]byte("m"), 64<<10)
	key := [4]byte{1, 2, 3, 4}
	b.Run("bytewise", func(b *testing.B) {
		b.SetBytes(int64(len(payload)))
		for b.Loop() {
			for i := range payload {
				payload[i] ^= key[i&3]
			}
		}
	})
	b.Run("wordwise", func(b *testing.B) {
		dst := make([]byte, 0, len(payload)+14)
		b.SetBytes(int64(len(payload)))
		for b.Loop() {
			dst = wsproto.AppendFrame(dst[:0], wsproto.Client, wsproto.OpBinary, true, false, key, payload)
		}
	})
}
