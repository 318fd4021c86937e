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
		z := &flushStream{}
		z.w = zlib.NewWriter(&z.buf)
		return z
	case compressZstd:
		z := &flushStream{}
		// One goroutine-free encoder per connection; a 1 MiB window keeps
		// the fake light while clients still need a real streaming decoder.
		enc, _ := zstd.NewWriter(&z.buf, zstd.WithEncoderConcurrency(1),
			zstd.WithWindowSize(1<<20), zstd.WithEncoderLevel(zstd.SpeedFastest))
		z.w, z.closeW = enc, func() { enc.Close() }
		return z
	}
	return nil
}

// flushStream is one compressed stream per connection: each message is
// written and flushed, so the client can decode it without waiting for more.
// For zlib the flush is a sync flush, so every message ends in 00 00 ff ff;
// for zstd it ends a block, never the frame.
type flushStream struct {
	buf bytes.Buffer
	w   interface {
		Write([]byte) (int, error)
		Flush() error
	}
	closeW func()
}

func (z *flushStream) encode(msg []byte) []byte {
	z.buf.Reset()
	z.w.Write(msg) // writes to a bytes.Buffer cannot fail
	z.w.Flush()
	return z.buf.Bytes()
}

func (z *flushStream) close() {
	if z.closeW != nil {
		z.closeW()
	}
}
