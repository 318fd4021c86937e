package zstdstream_test

import (
	"io"

	"github.com/ipcord/ipcord/internal/twopart"
	"github.com/klauspost/compress/zstd"
	"sync"
	"testing"

	"github.com/ipcord/ipcord/gateway/internal/corpus"
	"github.com/ipcord/ipcord/gateway/internal/zstdstream"
)

var benchCorpus = sync.OnceValue(corpus.Generate)

// BenchmarkDecode decodes the gateway corpus's zstd-stream message by
// message, as the gateway does.
func BenchmarkDecode(b *testing.B) {
	c := benchCorpus()
	space := make([]byte, 1<<20)
	var d zstdstream.Decoder
	b.SetBytes(int64(c.Plain))
	b.ReportAllocs()
	for b.Loop() {
		d.Reset()
		total := 0
		for _, m := range c.Zstd {
			for len(m) > 0 {
				n, used, err := d.Decode(space, m)
				if err != nil {
					b.Fatal(err)
				}
				total += n
				m = m[used:]
			}
		}
		if total != c.Plain {
			b.Fatalf("%d bytes, want %d", total, c.Plain)
		}
	}
}

// BenchmarkDecodeKlauspost is the same with klauspost/compress/zstd, read
// as the gateway read it before zstdstream: one decoder over the stream,
// fed message by message.
func BenchmarkDecodeKlauspost(b *testing.B) {
	c := benchCorpus()
	buf := make([]byte, zstdstream.MaxBlockSize+1)
	var src twopart.Reader
	dec, err := zstd.NewReader(&src, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true))
	if err != nil {
		b.Fatal(err)
	}
	defer dec.Close()
	b.SetBytes(int64(c.Plain))
	b.ReportAllocs()
	for b.Loop() {
		src.Reset(nil, nil)
		dec.Reset(&src)
		total := 0
		for _, m := range c.Zstd {
			src.Reset(m, nil)
			for src.Remaining() > 0 {
				n, err := dec.Read(buf)
				if err != nil && err != io.EOF {
					b.Fatal(err)
				}
				total += n
			}
		}
		if total != c.Plain {
			b.Fatalf("%d bytes, want %d", total, c.Plain)
		}
	}
}
