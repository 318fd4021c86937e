package ipc

import (
	"errors"
	"sync"

	"github.com/ipcord/ipcord/internal/wsproto"
)

// Compression configures permessage-deflate (RFC 7692) on a Server or a
// Client. On native connections the zero value is off: JSON routes are
// often small, and compressing them costs more CPU than the bytes it saves
// on a local network. Turn it on for large replies over slow links. The
// Python dialects' connections have their own setting, on by default
// (Server.DialectCompression, ClientConfig.DialectCompression), because
// their peers expect it: aiohttp's and websockets' servers accept an offer,
// websockets' clients (better-ipc, Zonis) make one.
//
// It is negotiated: a connection compresses only when both ends enabled it,
// and an end that did not is served uncompressed. Each message is compressed
// on its own (no context takeover), so idle connections hold no compressor
// state.
type Compression struct {
	// Enabled offers (Client) or accepts (Server) permessage-deflate on
	// native connections.
	Enabled bool
	// MinSize is the size from which a message is compressed, in bytes.
	// Default 4096. A message that would not get smaller is sent as is.
	MinSize int
	// Level is the compress/flate level from 1 (fastest) to 9; 0 means 1.
	Level int
}

// compressor is the per-owner state of an enabled Compression: pools of
// compressors and decompressors shared by the owner's connections, which
// each use one only for the time of one message.
type compressor struct {
	minSize   int
	deflaters sync.Pool
	inflaters sync.Pool
}

func newCompressor(c Compression) *compressor {
	if !c.Enabled {
		return nil
	}
	z := &compressor{minSize: orDefault(c.MinSize, 4096)}
	level := c.Level
	z.deflaters.New = func() any { return &wsproto.Deflater{Level: level} }
	z.inflaters.New = func() any { return new(wsproto.Inflater) }
	return z
}

// dialectCompressor is the compressor of the Python dialects' connections:
// c, or when c is nil the default (on, with Compression's defaults).
func dialectCompressor(c *Compression) *compressor {
	if c == nil {
		return newCompressor(Compression{Enabled: true})
	}
	return newCompressor(*c)
}

// enableCompression switches c to compressed messages after a successful
// negotiation; it is called before the connection reads or writes.
func (c *conn) enableCompression(z *compressor) {
	c.compress = z
	c.dec.AllowRSV1 = true
}

// writeCompressed queues a data message compressed, or as is when
// compression does not make it smaller.
func (c *conn) writeCompressed(z *compressor, op wsproto.Opcode, payload []byte) bool {
	d := z.deflaters.Get().(*wsproto.Deflater)
	buf := getBuf()
	*buf = d.Append((*buf)[:0], payload)
	z.deflaters.Put(d)
	var ok bool
	if len(*buf) < len(payload) {
		ok = c.queue(op, true, *buf, false)
	} else {
		ok = c.queue(op, false, payload, false)
	}
	putBuf(buf)
	return ok
}

// next is Decoder.Next for the connection's readers: a message received
// compressed comes out decompressed, and one that cannot be (corrupt, or
// over MaxMessage once inflated) is, like any other violation of the
// protocol, the *CloseError to close with.
func (c *conn) next() (wsproto.Message, bool, error) {
	m, ok, err := c.dec.Next()
	if ok && m.Compressed {
		if m.Payload, err = c.inflate(m.Payload); err != nil {
			return wsproto.Message{}, false, violation(err)
		}
		m.Compressed = false
	}
	return m, ok, violation(err)
}

// violation turns wsproto's *ProtocolError into a *CloseError, the type
// callers can match (wsproto is internal).
func violation(err error) error {
	if err == nil {
		return nil // the hot path: errors.As would move pe to the heap
	}
	var pe *wsproto.ProtocolError
	if errors.As(err, &pe) {
		return &CloseError{Code: int(pe.Code), Reason: pe.Reason}
	}
	return err
}

// inflate returns the decompressed payload of a message received with
// RSV1, in a buffer owned by the reader of c and valid until its next
// inflate. A result over MaxMessage is a 1009 *wsproto.ProtocolError.
func (c *conn) inflate(payload []byte) ([]byte, error) {
	if c.compress == nil {
		// The decoder refuses RSV1 unless compression was negotiated.
		return payload, nil
	}
	f := c.compress.inflaters.Get().(*wsproto.Inflater)
	// The decoder's limit, not the config's: a dialect connection has its
	// own (DialectMaxMessage), and a decompressed message is bounded alike.
	out, err := f.Append(c.inflated[:0], payload, c.dec.MaxMessage)
	c.compress.inflaters.Put(f)
	if cap(out) <= 256<<10 {
		c.inflated = out[:0] // keep a modest buffer for the next one
	} else {
		c.inflated = nil
	}
	return out, err
}
