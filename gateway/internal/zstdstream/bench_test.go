package zstdstream_test

import (
	"io"
	"sync"
	"testing"
	"time"

	"github.com/ipcord/ipcord/gateway/internal/corpus"
	"github.com/ipcord/ipcord/gateway/internal/zstdstream"
	"github.com/ipcord/ipcord/internal/cputime"
	"github.com/ipcord/ipcord/internal/twopart"
	"github.com/klauspost/compress/zstd"
)

var benchCorpus = sync.OnceValue(corpus.Generate)

// decodeAll decodes the corpus's zstd-stream message by message, as the
// gateway does, and returns the bytes out.
func decodeAll(b *testing.B, d *zstdstream.Decoder, space []byte, msgs [][]byte) int {
	d.Reset()
	total := 0
	for _, m := range msgs {
		for len(m) > 0 {
			n, used, err := d.Decode(space, m)
			if err != nil {
				b.Fatal(err)
			}
			total += n
			m = m[used:]
		}
	}
	return total
}

// klauspostAll is decodeAll with klauspost/compress/zstd, read as the
// gateway read it before zstdstream: one decoder over the stream, fed
// message by message, with room for more than a block each Read.
type klauspostAll struct {
	src twopart.Reader
	dec *zstd.Decoder
	buf []byte
}

func newKlauspostAll(b *testing.B) *klauspostAll {
	k := &klauspostAll{buf: make([]byte, zstdstream.MaxBlockSize+1)}
	dec, err := zstd.NewReader(&k.src, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true))
	if err != nil {
		b.Fatal(err)
	}
	k.dec = dec
	return k
}

func (k *klauspostAll) run(b *testing.B, msgs [][]byte) int {
	k.src.Reset(nil, nil)
	k.dec.Reset(&k.src)
	total := 0
	for _, m := range msgs {
		k.src.Reset(m, nil)
		for k.src.Remaining() > 0 {
			n, err := k.dec.Read(k.buf)
			if err != nil && err != io.EOF {
				b.Fatal(err)
			}
			total += n
		}
	}
	return total
}

// BenchmarkDecode decodes the gateway corpus's zstd-stream with
// zstdstream and with klauspost/compress/zstd, alternately in each
// iteration, and reports each one's throughput over the CPU time it took
// (on a shared machine the wall clock measures the neighbours too) and
// their ratio.
func BenchmarkDecode(b *testing.B) {
	c := benchCorpus()
	space := make([]byte, zstdstream.OutputSpace)
	var d zstdstream.Decoder
	k := newKlauspostAll(b)
	defer k.dec.Close()
	var ours, theirs time.Duration
	b.SetBytes(int64(c.Plain))
	for b.Loop() {
		t0 := cputime.Process()
		n1 := decodeAll(b, &d, space, c.Zstd)
		t1 := cputime.Process()
		n2 := k.run(b, c.Zstd)
		t2 := cputime.Process()
		if n1 != c.Plain || n2 != c.Plain {
			b.Fatalf("%d and %d bytes, want %d", n1, n2, c.Plain)
		}
		ours += t1 - t0
		theirs += t2 - t1
	}
	mb := float64(c.Plain) * float64(b.N) / 1e6
	b.ReportMetric(mb/ours.Seconds(), "ours-cpu-MB/s")
	b.ReportMetric(mb/theirs.Seconds(), "klauspost-cpu-MB/s")
	b.ReportMetric(theirs.Seconds()/ours.Seconds(), "speed-ratio")
}

// BenchmarkDecodeOnly is zstdstream alone, for profiles.
func BenchmarkDecodeOnly(b *testing.B) {
	c := benchCorpus()
	space := make([]byte, zstdstream.OutputSpace)
	var d zstdstream.Decoder
	b.SetBytes(int64(c.Plain))
	for b.Loop() {
		decodeAll(b, &d, space, c.Zstd)
	}
}

// BenchmarkDecodeOnlyKlauspost is klauspost's decoder alone, for profiles.
func BenchmarkDecodeOnlyKlauspost(b *testing.B) {
	c := benchCorpus()
	k := newKlauspostAll(b)
	defer k.dec.Close()
	b.SetBytes(int64(c.Plain))
	for b.Loop() {
		k.run(b, c.Zstd)
	}
}
