package wsproto

import (
	"encoding/binary"
	"io"
	"sync"
	"unicode/utf8"
)

// DefaultMaxMessage is the message size limit of a Decoder whose
// MaxMessage is 0.
const DefaultMaxMessage = 1 << 20

const (
	// bufSize is the buffer a Decoder starts with and shrinks back to.
	bufSize = 16 << 10
	// minRead is the least spare room ReadFrom offers to a Read, so small
	// frames do not turn into many tiny reads.
	minRead = 4 << 10
	// keepCap is the largest buffer a Decoder keeps once the message that
	// needed it is gone; larger ones are dropped so one huge message does
	// not pin memory for the life of the connection. It is above 64 KiB
	// so a steady stream of 64 KiB messages decodes without allocating.
	keepCap = 256 << 10
)

// Decoder turns bytes received from the peer into messages. The zero value
// is a Client-role decoder with a 1 MiB limit; set the fields before the
// first Feed or ReadFrom. A Decoder is not safe for concurrent use: one
// reader goroutine (or one sans-I/O state machine) owns it.
type Decoder struct {
	// Role is the local role: a Server requires masked frames, a Client
	// rejects masked ones.
	Role Role
	// MaxMessage limits a reassembled data message, in bytes; 0 means
	// DefaultMaxMessage. It is checked from each frame header before the
	// payload is buffered, so a peer announcing 6 GiB costs nothing. With
	// compression it limits the compressed size; the inflater must enforce
	// its own limit.
	MaxMessage int
	// AllowRSV1 accepts RSV1 on the first frame of a data message: set it
	// when permessage-deflate was negotiated.
	AllowRSV1 bool
	// ValidateUTF8 checks text messages (unless compressed), failing with
	// close code 1007 when they are not UTF-8; a fragmented one fails at
	// the first bad fragment. Close reasons are always checked.
	ValidateUTF8 bool

	buf []byte // received bytes; buf[r:] is not consumed yet
	r   int
	// want is the size of the frame at buf[r:] once its header was read
	// and the payload is incomplete, so ReadFrom can grow the buffer to
	// fit; 0 otherwise.
	want int

	fragOp   Opcode // data opcode of the message being reassembled, 0 if none
	fragComp bool   // RSV1 of its first frame
	msg      []byte // its payload so far
	checked  int    // length of msg's prefix known to be valid UTF-8
	err      error  // sticky: set once, returned forever
}

// Message is a complete data message or a control frame.
type Message struct {
	Op          Opcode    // OpText, OpBinary, OpClose, OpPing or OpPong
	Payload     []byte    // unmasked; valid until the next Feed, ReadFrom or Next
	Compressed  bool      // RSV1 was set on the first frame
	CloseCode   CloseCode // OpClose only: CloseNoStatus when the body was empty
	CloseReason string    // OpClose only
}

// Feed appends received bytes to the decoder. Bytes may be split anywhere;
// feeding one byte at a time works. Feed keeps no reference to p. After a
// protocol error Feed drops p: the connection is finished.
func (d *Decoder) Feed(p []byte) {
	if len(p) == 0 || d.err != nil {
		return
	}
	d.makeRoom(len(p))
	d.buf = append(d.buf, p...)
}

// ReadFrom does exactly one Read from r straight into the decoder's spare
// buffer, growing it when the frame being received needs more room, and
// returns what that Read returned (io.EOF included, unlike io.Copy's
// ReaderFrom contract). After a protocol error it reads nothing and returns
// that error.
func (d *Decoder) ReadFrom(r io.Reader) (int64, error) {
	if d.err != nil {
		return 0, d.err
	}
	// Offer room for the rest of the frame being received, but at most as
	// much again as already arrived: a peer that announces a large frame
	// and then trickles bytes gets a buffer that grows with what it sent.
	need := minRead
	if pending := len(d.buf) - d.r; d.want > pending {
		need = max(minRead, min(d.want-pending, max(pending, bufSize)))
	}
	d.makeRoom(need)
	n, err := r.Read(d.buf[len(d.buf):cap(d.buf)])
	if n < 0 || n > cap(d.buf)-len(d.buf) {
		return 0, io.ErrShortBuffer // a broken Reader; keep the buffer intact
	}
	d.buf = d.buf[:len(d.buf)+n]
	return int64(n), err
}

// Buffered returns how many received bytes are held but not yet returned
// by Next (a partial frame, or frames not read yet).
func (d *Decoder) Buffered() int { return len(d.buf) - d.r }

// bufs recycles receive buffers of the starting size among every Decoder
// of the process, so that Release costs nothing to undo.
var bufs = sync.Pool{New: func() any { return new([bufSize]byte) }}

// Release lets go of the receive buffer when it holds no unread bytes (and
// of the reassembly buffer when no fragmented message is in progress), so
// a connection that waits long between messages holds none; the next Feed
// or ReadFrom takes one again. A buffer of the starting size goes back to
// a pool the process's Decoders share. The Payload of every Message
// returned so far becomes invalid.
func (d *Decoder) Release() {
	if d.Buffered() > 0 {
		return
	}
	if cap(d.buf) == bufSize {
		bufs.Put((*[bufSize]byte)(d.buf[:bufSize]))
	}
	d.buf, d.r, d.want = nil, 0, 0
	if d.fragOp == 0 {
		d.msg = nil
	}
}

// makeRoom makes spare capacity for n more bytes after the unconsumed
// ones: it drops consumed bytes, shrinks a buffer a huge message left
// behind, and grows by at most doubling, so memory follows the bytes that
// actually arrived rather than a length the peer announced.
func (d *Decoder) makeRoom(n int) {
	pending := len(d.buf) - d.r
	if pending == 0 {
		d.buf, d.r = d.buf[:0], 0
	}
	if (cap(d.buf) == 0 || cap(d.buf) > keepCap) && pending+n <= bufSize {
		nb := bufs.Get().(*[bufSize]byte)[:pending]
		copy(nb, d.buf[d.r:])
		d.buf, d.r = nb, 0
		return
	}
	if cap(d.buf)-len(d.buf) >= n {
		return
	}
	if d.r > 0 {
		copy(d.buf, d.buf[d.r:])
		d.buf, d.r = d.buf[:pending], 0
		if cap(d.buf)-pending >= n {
			return
		}
	}
	size := max(2*cap(d.buf), bufSize)
	if d.want > pending && size > d.want {
		size = max(d.want, pending+n) // the frame's exact size, no slack
	}
	size = max(size, pending+n)
	nb := make([]byte, pending, size)
	copy(nb, d.buf)
	d.buf = nb
}

func (d *Decoder) maxMessage() uint64 {
	if d.MaxMessage <= 0 {
		return DefaultMaxMessage
	}
	return uint64(d.MaxMessage)
}

// Next returns the next complete message or control frame. ok=false with a
// nil error means more bytes are needed. Data messages are reassembled from
// their fragments; control frames that arrive between fragments are
// returned at once. A violation of the protocol is a *ProtocolError, and
// from then on Next returns that same error. The Decoder does not track the
// closing handshake: after a close frame the caller stops reading.
func (d *Decoder) Next() (m Message, ok bool, err error) {
	if d.err != nil {
		return Message{}, false, d.err
	}
	for {
		m, ok, done, err := d.frame()
		if err != nil {
			d.err = err
			d.fragOp, d.msg = 0, nil
			return Message{}, false, err
		}
		if !done {
			return Message{}, false, nil
		}
		if ok {
			return m, true, nil
		}
		// A fragment went into d.msg; read on.
	}
}

// frame decodes one frame from buf[r:]. done=false: the frame is not
// complete yet. done with ok=false: a fragment was consumed and nothing is
// returned yet.
func (d *Decoder) frame() (m Message, ok, done bool, err error) {
	data := d.buf[d.r:]
	if len(data) < 2 {
		return m, false, false, nil
	}
	b0, b1 := data[0], data[1]
	fin := b0&0x80 != 0
	rsv1 := b0&0x40 != 0
	op := Opcode(b0 & 0x0f)
	masked := b1&0x80 != 0
	control := op.IsControl()

	switch {
	case op > OpBinary && op < OpClose, op > OpPong:
		return m, false, false, protocolErr(CloseProtocolError, "reserved opcode %d", op)
	case b0&0x30 != 0:
		return m, false, false, protocolErr(CloseProtocolError, "RSV2 or RSV3 set")
	case rsv1 && (!d.AllowRSV1 || control || op == OpContinuation):
		return m, false, false, protocolErr(CloseProtocolError, "RSV1 set on a %s frame without an extension allowing it", op)
	case d.Role == Server && !masked:
		return m, false, false, protocolErr(CloseProtocolError, "unmasked frame from a client")
	case d.Role == Client && masked:
		return m, false, false, protocolErr(CloseProtocolError, "masked frame from a server")
	case control && !fin:
		return m, false, false, protocolErr(CloseProtocolError, "fragmented %s frame", op)
	case op == OpContinuation && d.fragOp == 0:
		return m, false, false, protocolErr(CloseProtocolError, "continuation frame without a message to continue")
	case !control && op != OpContinuation && d.fragOp != 0:
		return m, false, false, protocolErr(CloseProtocolError, "new %s message before the fragmented one ended", op)
	}

	hdr := 2
	switch b1 & 0x7f {
	case 126:
		hdr += 2
	case 127:
		hdr += 8
	}
	if masked {
		hdr += 4
	}
	if len(data) < hdr {
		return m, false, false, nil
	}
	var n uint64
	switch b1 & 0x7f {
	case 126:
		n = uint64(binary.BigEndian.Uint16(data[2:]))
		if n < 126 {
			return m, false, false, nonMinimal(op, n)
		}
	case 127:
		n = binary.BigEndian.Uint64(data[2:])
		if n>>63 != 0 {
			return m, false, false, protocolErr(CloseProtocolError, "payload length with the most significant bit set")
		}
		if n <= 0xffff {
			return m, false, false, nonMinimal(op, n)
		}
	default:
		n = uint64(b1 & 0x7f)
	}
	if control && n > maxControlPayload {
		return m, false, false, protocolErr(CloseProtocolError, "%s frame longer than 125 bytes", op)
	}
	if !control {
		total := n
		if op == OpContinuation {
			total += uint64(len(d.msg))
		}
		if limit := d.maxMessage(); total > limit {
			return m, false, false, &ProtocolError{Code: CloseMessageTooBig,
				Reason: "message of " + uitoa(total) + " bytes exceeds the limit of " + uitoa(limit)}
		}
	}
	// n is now at most MaxMessage (an int) or 125, so the sum fits an int.
	size := hdr + int(n)
	if len(data) < size {
		d.want = size
		return m, false, false, nil
	}
	d.want = 0
	payload := data[hdr:size:size]
	if masked {
		mask(payload, [4]byte(data[hdr-4:hdr]))
	}
	d.r += size

	if control {
		m = Message{Op: op, Payload: payload}
		if op == OpClose {
			if err := d.parseClose(&m); err != nil {
				return m, false, false, err
			}
		}
		return m, true, true, nil
	}
	if op != OpContinuation && fin {
		m = Message{Op: op, Payload: payload, Compressed: rsv1}
		return m, true, true, d.checkText(&m)
	}
	if op != OpContinuation {
		d.fragOp, d.fragComp, d.checked = op, rsv1, 0
		d.msg = append(d.msg[:0], payload...)
		return m, false, true, d.checkFragment()
	}
	d.msg = append(d.msg, payload...)
	if !fin {
		return m, false, true, d.checkFragment()
	}
	m = Message{Op: d.fragOp, Payload: d.msg, Compressed: d.fragComp}
	d.fragOp, d.fragComp = 0, false
	if cap(d.msg) > keepCap {
		d.msg = nil // the caller has it until the next call; do not keep it
	}
	if d.ValidateUTF8 && m.Op == OpText && !m.Compressed && !utf8.Valid(m.Payload[d.checked:]) {
		return m, false, false, invalidText()
	}
	return m, true, true, nil
}

// nonMinimal is a length encoded in more bytes than it needs, which RFC
// 6455 (5.2) forbids: said as such, not as a size violation it is not.
func nonMinimal(op Opcode, n uint64) error {
	return protocolErr(CloseProtocolError, "%s frame length %d not in its minimal encoding", op, n)
}

func invalidText() error {
	return &ProtocolError{Code: CloseInvalidPayload, Reason: "text message is not valid UTF-8"}
}

func (d *Decoder) checkText(m *Message) error {
	if d.ValidateUTF8 && m.Op == OpText && !m.Compressed && !utf8.Valid(m.Payload) {
		return invalidText()
	}
	return nil
}

// checkFragment validates the text received so far of a fragmented
// message, so that a peer sending invalid UTF-8 is stopped at the first
// bad fragment rather than after a whole message of it. A rune cut by the
// fragment boundary is left for the next fragment.
func (d *Decoder) checkFragment() error {
	if !d.ValidateUTF8 || d.fragOp != OpText || d.fragComp {
		return nil
	}
	end := len(d.msg)
	for i := 1; i < utf8.UTFMax && i <= end-d.checked; i++ {
		if utf8.RuneStart(d.msg[end-i]) {
			if !utf8.FullRune(d.msg[end-i:]) {
				end -= i
			}
			break
		}
	}
	if !utf8.Valid(d.msg[d.checked:end]) {
		return invalidText()
	}
	d.checked = end
	return nil
}

func (d *Decoder) parseClose(m *Message) error {
	p := m.Payload
	switch {
	case len(p) == 0:
		m.CloseCode = CloseNoStatus
		return nil
	case len(p) == 1:
		return protocolErr(CloseProtocolError, "close frame with a 1-byte body")
	}
	m.CloseCode = CloseCode(binary.BigEndian.Uint16(p))
	if !m.CloseCode.Valid() {
		return protocolErr(CloseProtocolError, "close code %d may not be sent", m.CloseCode)
	}
	// Always checked, whatever ValidateUTF8 says: close frames are rare,
	// and echoing a close whose reason is not UTF-8 with 1000 is what
	// RFC 6455 (5.5.1, 8.1) forbids.
	if !utf8.Valid(p[2:]) {
		return protocolErr(CloseInvalidPayload, "close reason is not valid UTF-8")
	}
	m.CloseReason = string(p[2:])
	return nil
}

func uitoa(v uint64) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + v%10)
		v /= 10
		if v == 0 {
			return string(b[i:])
		}
	}
}
