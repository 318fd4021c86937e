package ipc

import (
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/ipcord/ipcord/internal/wsproto"
)

// upgrade answers r's WebSocket upgrade with subprotocol proto and
// extension ext (both may be empty) and takes over the connection. It
// holds one of slots, the handshakes a listener allows at once, until
// release or firstMessage frees it, so peers that connect and say nothing
// cannot hold the listener for longer than the handshake timeout. ok is
// false when r has been answered with an error.
func upgrade(w http.ResponseWriter, r *http.Request, slots chan struct{}, proto, ext string) (nc net.Conn, buffered []byte, release func(), ok bool) {
	key, err := wsproto.CheckRequest(r)
	if err != nil {
		wsproto.Refuse(w, err)
		return nil, nil, nil, false
	}
	select {
	case slots <- struct{}{}:
	default:
		http.Error(w, "too many connections in handshake", http.StatusServiceUnavailable)
		return nil, nil, nil, false
	}
	var once sync.Once
	release = func() { once.Do(func() { <-slots }) }
	nc, buffered, err = wsproto.Accept(w, key, proto, ext)
	if err != nil {
		release()
		return nil, nil, nil, false
	}
	return nc, buffered, release, true
}

// firstMessage reads the peer's first message within timeout, then frees
// the handshake slot with release.
func (c *conn) firstMessage(timeout time.Duration, release func()) (wsproto.Message, error) {
	defer release()
	c.nc.SetReadDeadline(time.Now().Add(timeout))
	m, err := c.readMessage()
	if err == nil {
		c.nc.SetReadDeadline(time.Time{})
	}
	return m, err
}
