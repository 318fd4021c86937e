package wsproto_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/ipcord/ipcord/internal/wsproto"
)

// jsonish returns about n bytes of JSON shaped like a list of members.
func jsonish(n int) []byte {
	var b strings.Builder
	b.WriteByte('[')
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, `{"id":"%d","username":"user%d","roles":["41771983423143936"]},`, 175928847299117063+i*7919, i)
	}
	b.WriteString("{}]")
	return []byte(b.String())
}

// BenchmarkDeflate compresses and inflates one message of each size, with
// buffers reused as a connection reuses them.
func BenchmarkDeflate(b *testing.B) {
	for _, size := range []int{4 << 10, 64 << 10, 256 << 10} {
		msg := jsonish(size)
		var d wsproto.Deflater
		comp := d.Append(nil, msg)
		b.Run(fmt.Sprintf("compress/%dKiB", size>>10), func(b *testing.B) {
			b.SetBytes(int64(len(msg)))
			b.ReportAllocs()
			buf := make([]byte, 0, len(msg))
			for b.Loop() {
				buf = d.Append(buf[:0], msg)
			}
			b.ReportMetric(float64(len(comp))/float64(len(msg)), "ratio")
		})
		b.Run(fmt.Sprintf("inflate/%dKiB", size>>10), func(b *testing.B) {
			var f wsproto.Inflater
			b.SetBytes(int64(len(msg)))
			b.ReportAllocs()
			buf := make([]byte, 0, len(msg)+1)
			for b.Loop() {
				var err error
				if buf, err = f.Append(buf[:0], comp, 1<<20); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
