package corpus

import (
	"errors"
	"strings"

	"github.com/ipcord/ipcord/gateway"
	"github.com/ipcord/ipcord/internal/wsproto"
)

// Stream returns the server's bytes for comp after the upgrade: each
// message of the corpus (compressed for zlib-stream and zstd-stream) in
// one WebSocket frame.
func (c *Corpus) Stream(comp gateway.Compression) []byte {
	var b []byte
	for i, m := range c.Msgs {
		switch comp {
		case gateway.CompressZlib:
			b = wsproto.AppendFrame(b, wsproto.Server, wsproto.OpBinary, true, false, [4]byte{}, c.Zlib[i])
		case gateway.CompressZstd:
			b = wsproto.AppendFrame(b, wsproto.Server, wsproto.OpBinary, true, false, [4]byte{}, c.Zstd[i])
		default:
			b = wsproto.AppendFrame(b, wsproto.Server, wsproto.OpText, true, false, [4]byte{}, m)
		}
	}
	return b
}

// Replay opens a new connection on conn (Connect and the server's upgrade
// reply), then feeds it stream in 64 KiB reads and calls each for every
// event, as a driver reading a socket would (IDENTIFY after HELLO
// included). It returns the number of events.
func Replay(conn *gateway.Conn, stream []byte, each func(gateway.Event) error) (int, error) {
	// The stream is a new session (HELLO, READY...): connect without the
	// last replay's, so the Conn identifies rather than resumes.
	conn.Restore(gateway.Session{})
	d, err := conn.Connect()
	if err != nil {
		return 0, err
	}
	req := string(d.Request)
	i := strings.Index(req, "Sec-WebSocket-Key: ")
	if i < 0 {
		return 0, errors.New("corpus: no key in the upgrade request")
	}
	key := req[i+len("Sec-WebSocket-Key: "):]
	key = key[:strings.Index(key, "\r\n")]
	conn.Receive(wsproto.AppendResponse(nil, key, "", "", nil))
	events := 0
	for len(stream) > 0 {
		n := min(len(stream), 64<<10)
		conn.Receive(stream[:n])
		stream = stream[n:]
		for {
			ev, err := conn.Next()
			if err != nil {
				return events, err
			}
			if ev == nil {
				break
			}
			events++
			if h, ok := ev.(*gateway.Hello); ok && !h.Resuming {
				// As a driver does, so that the READY that follows
				// answers an IDENTIFY.
				if err := conn.Identify(); err != nil {
					return events, err
				}
				conn.Output()
			}
			if each != nil {
				if err := each(ev); err != nil {
					return events, err
				}
			}
		}
	}
	return events, nil
}
