package discordtest

import (
	"bytes"
	"sync"

	"github.com/klauspost/compress/flate"
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
	// message appends the parts of one payload, compressed, to dst.
	message(dst []byte, parts ...[]byte) []byte
	close()
}

// newCompressor returns the stream compressor for a connection, or nil for
// plain text frames.
func newCompressor(kind string) compressor {
	switch kind {
	case compressZlib:
		return &zlibStream{}
	case compressZstd:
		z := &zstdStream{}
		// One goroutine-free encoder per connection; a 1 MiB window keeps
		// the fake light while clients still need a real streaming decoder.
		z.enc, _ = zstd.NewWriter(&z.buf, zstd.WithEncoderConcurrency(1),
			zstd.WithWindowSize(1<<20), zstd.WithEncoderLevel(zstd.SpeedFastest))
		return z
	}
	return nil
}

// zlibStream is a zlib stream in which each message is compressed on its
// own: DEFLATE blocks that refer to nothing before them, ending in a sync
// flush (00 00 ff ff), as a client needs to inflate a message at once. Its
// bytes are then valid at any message boundary of any connection, so an
// Event compresses its data once for every connection and every send, and
// a connection holds no compressor. The client still runs one inflater
// over the whole stream, as with Discord; only the compression ratio is
// lower, since no message borrows from the ones before it.
type zlibStream struct{ started bool }

// zlibHeader starts the stream: DEFLATE, a 32 KiB window.
var zlibHeader = []byte{0x78, 0x9c}

func (z *zlibStream) message(dst []byte, parts ...[]byte) []byte {
	dst = z.start(dst)
	return deflateMessage(dst, parts...)
}

// start appends the stream's header before its first message.
func (z *zlibStream) start(dst []byte) []byte {
	if z.started {
		return dst
	}
	z.started = true
	return append(dst, zlibHeader...)
}

func (z *zlibStream) close() {}

// deflaters are the process's DEFLATE compressors, reset for each message.
var deflaters = sync.Pool{New: func() any {
	w, _ := flate.NewWriter(nil, flate.BestSpeed)
	return w
}}

// deflateMessage appends parts as DEFLATE blocks of their own, ending in a
// sync flush.
func deflateMessage(dst []byte, parts ...[]byte) []byte {
	w := deflaters.Get().(*flate.Writer)
	b := bytes.NewBuffer(dst)
	w.Reset(b)
	for _, p := range parts {
		w.Write(p) // writes to a bytes.Buffer cannot fail
	}
	w.Flush()
	w.Reset(nil)
	deflaters.Put(w)
	return b.Bytes()
}

// appendStored appends b as a stored (uncompressed) DEFLATE block, which
// starts at the byte boundary a sync flush leaves. b is at most 65,535
// bytes: a dispatch's envelope.
func appendStored(dst, b []byte) []byte {
	n := len(b)
	dst = append(dst, 0, byte(n), byte(n>>8), ^byte(n), ^byte(n>>8))
	return append(dst, b...)
}

// zstdStream is one zstd frame for the connection's life: each message is
// written and flushed, which ends a block, never the frame.
type zstdStream struct {
	buf bytes.Buffer
	enc *zstd.Encoder
}

func (z *zstdStream) message(dst []byte, parts ...[]byte) []byte {
	z.buf.Reset()
	for _, p := range parts {
		z.enc.Write(p) // writes to a bytes.Buffer cannot fail
	}
	z.enc.Flush()
	return append(dst, z.buf.Bytes()...)
}

func (z *zstdStream) close() { z.enc.Close() }
