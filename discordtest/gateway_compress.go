package discordtest

import (
	"bytes"
	"compress/zlib"

	"github.com/klauspost/compress/zstd"
)

// Transport compression values of the connect URL's compress parameter.
const (
	compressZlib = "zlib-stream"
	compressZstd = "zstd-stream"
)

// compressor turns each payload into the bytes of one binary message of a
// connection-long compressed stream.
type compressor interface {
	encode(msg []byte) []byte // valid until the next call
	close()
}

// newCompressor returns the stream compressor for a connection, or nil for
// plain text frames.
func newCompressor(kind string) compressor {
	switch kind {
	case compressZlib:
		z := &zlibStream{}
		z.w = zlib.NewWriter(&z.buf)
		return z
	case compressZstd:
		z := &zstdStream{}
		// One goroutine-free encoder per connection; a 1 MiB window keeps
		// the fake light while clients still need a real streaming decoder.
		z.w, _ = zstd.NewWriter(&z.buf, zstd.WithEncoderConcurrency(1),
			zstd.WithWindowSize(1<<20), zstd.WithEncoderLevel(zstd.SpeedFastest))
		return z
	}
	return nil
}

// zlibStream is Discord's zlib-stream: one zlib stream per connection, each
// message ended by a sync flush, so it ends in 00 00 ff ff.
type zlibStream struct {
	buf bytes.Buffer
	w   *zlib.Writer
}

func (z *zlibStream) encode(msg []byte) []byte {
	z.buf.Reset()
	z.w.Write(msg)
	z.w.Flush()
	return z.buf.Bytes()
}

func (z *zlibStream) close() {}

// zstdStream is Discord's zstd-stream: one zstd frame per connection that
// never ends; each message is flushed as whole blocks.
type zstdStream struct {
	buf bytes.Buffer
	w   *zstd.Encoder
}

func (z *zstdStream) encode(msg []byte) []byte {
	z.buf.Reset()
	z.w.Write(msg)
	z.w.Flush()
	return z.buf.Bytes()
}

func (z *zstdStream) close() { z.w.Close() }
