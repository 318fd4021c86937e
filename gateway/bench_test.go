package gateway_test

import (
	"bytes"
	"compress/flate"
	"io"
	"runtime"
	"testing"
	"time"

	"github.com/ipcord/ipcord/gateway"
	"github.com/ipcord/ipcord/gateway/internal/corpus"
	"github.com/ipcord/ipcord/internal/cputime"
	"github.com/klauspost/compress/zstd"
)

// BenchmarkReceive measures the whole receive path: WebSocket frames in
// (fed in 64 KiB reads), decompression, envelope scan, events out. MB/s are
// of decompressed JSON.
// receiveModes are the receive path's configurations: each compression,
// and zstd-stream with Config.ZstdFastDecoder (klauspost's decoder).
var receiveModes = []struct {
	name string
	comp gateway.Compression
	fast bool
}{
	{"none", gateway.CompressNone, false},
	{"zlib-stream", gateway.CompressZlib, false},
	{"zstd-stream", gateway.CompressZstd, false},
	{"zstd-stream-klauspost", gateway.CompressZstd, true},
}

func BenchmarkReceive(b *testing.B) {
	c := benchCorpus()
	for _, mode := range receiveModes {
		comp := mode.comp
		b.Run(mode.name, func(b *testing.B) {
			stream := c.Stream(comp)
			conn, err := gateway.New(gateway.Config{Token: "t", Compression: comp, ZstdFastDecoder: mode.fast})
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(c.Plain))
			b.ReportAllocs()
			var ms0, ms1 runtime.MemStats
			events := 0
			b.ResetTimer()
			cpu := startCPU()
			runtime.ReadMemStats(&ms0)
			for i := 0; i < b.N; i++ {
				n, err := corpus.Replay(conn, stream, nil)
				if err != nil {
					b.Fatal(err)
				}
				events += n
			}
			runtime.ReadMemStats(&ms1)
			cpu.report(b, c.Plain)
			if events != len(c.Msgs)*b.N {
				b.Fatalf("%d events, want %d", events, len(c.Msgs)*b.N)
			}
			b.ReportMetric(float64(ms1.Mallocs-ms0.Mallocs)/float64(events), "allocs/event")
		})
	}
}

// BenchmarkInflate is the bare inflate of the same messages: per message,
// as the gateway must (the package's inflaters, which the receive path
// uses), and, as a ceiling, one reader over the whole concatenated stream.
func BenchmarkInflate(b *testing.B) {
	c := benchCorpus()
	for _, mode := range receiveModes[1:] {
		comp := mode.comp
		b.Run(mode.name+"/per-message", func(b *testing.B) {
			recs := c.Zlib
			if comp == gateway.CompressZstd {
				recs = c.Zstd
			}
			inflate, reset := gateway.NewInflaterForTest(comp, mode.fast)
			b.SetBytes(int64(c.Plain))
			b.ReportAllocs()
			cpu := startCPU()
			defer cpu.report(b, c.Plain)
			for i := 0; i < b.N; i++ {
				reset()
				n := 0
				for _, r := range recs {
					out, _, err := inflate(r)
					if err != nil {
						b.Fatal(err)
					}
					n += len(out)
				}
				if n != c.Plain {
					b.Fatalf("inflated %d bytes, want %d", n, c.Plain)
				}
			}
		})
	}
	b.Run("zlib-stream/one-reader", func(b *testing.B) {
		all := bytes.Join(c.Zlib, nil)[2:]
		b.SetBytes(int64(c.Plain))
		b.ReportAllocs()
		buf := make([]byte, 64<<10)
		cpu := startCPU()
		defer cpu.report(b, c.Plain)
		for i := 0; i < b.N; i++ {
			fr := flate.NewReader(bytes.NewReader(all))
			n := 0
			for {
				k, err := fr.Read(buf)
				n += k
				if err != nil {
					break
				}
			}
			if n != c.Plain {
				b.Fatalf("inflated %d bytes, want %d", n, c.Plain)
			}
		}
	})
	b.Run("zstd-stream/one-reader", func(b *testing.B) {
		all := bytes.Join(c.Zstd, nil)
		b.SetBytes(int64(c.Plain))
		b.ReportAllocs()
		dec, _ := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1))
		defer dec.Close()
		cpu := startCPU()
		defer cpu.report(b, c.Plain)
		for i := 0; i < b.N; i++ {
			dec.Reset(struct{ io.Reader }{bytes.NewReader(all)})
			n, _ := io.Copy(io.Discard, dec)
			if int(n) != c.Plain {
				b.Fatalf("inflated %d bytes, want %d", n, c.Plain)
			}
		}
	})
}

// BenchmarkReceiveRatio alternates, within each iteration, a bare
// per-message inflate of the corpus and the whole receive path over the
// same stream, timing each by CPU time, and reports both throughputs and
// their ratio. Interleaving cancels the drift of a shared machine's load,
// which sequential benchmarks measure as much as the code.
func BenchmarkReceiveRatio(b *testing.B) {
	c := benchCorpus()
	for _, comp := range compressions[1:] {
		b.Run(comp.String(), func(b *testing.B) {
			recs := c.Zlib
			if comp == gateway.CompressZstd {
				recs = c.Zstd
			}
			stream := c.Stream(comp)
			inflate, reset := gateway.NewInflaterForTest(comp, false)
			conn, err := gateway.New(gateway.Config{Token: "t", Compression: comp})
			if err != nil {
				b.Fatal(err)
			}
			var tInflate, tReceive time.Duration
			b.SetBytes(int64(2 * c.Plain))
			for i := 0; i < b.N; i++ {
				t0 := cputime.Process()
				reset()
				for _, r := range recs {
					if _, _, err := inflate(r); err != nil {
						b.Fatal(err)
					}
				}
				t1 := cputime.Process()
				if _, err := corpus.Replay(conn, stream, nil); err != nil {
					b.Fatal(err)
				}
				t2 := cputime.Process()
				tInflate += t1 - t0
				tReceive += t2 - t1
			}
			mb := float64(c.Plain) * float64(b.N) / 1e6
			b.ReportMetric(mb/tInflate.Seconds(), "inflate-MB/s")
			b.ReportMetric(mb/tReceive.Seconds(), "receive-MB/s")
			b.ReportMetric(tInflate.Seconds()/tReceive.Seconds(), "ratio")
		})
	}
}
