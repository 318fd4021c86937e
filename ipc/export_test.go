package ipc

// CallReads reports whether a call of c reads its connection's socket
// right now (see conn_read.go), rather than the read loop.
func CallReads(c *Client) bool {
	p := c.connected()
	if p == nil {
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.reader == readerCall
}

// ServingQuiet is how long the read loop keeps the reading after the
// peer's last request.
const ServingQuiet = servingQuiet
