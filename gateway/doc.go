// Package gateway is a sans-I/O Discord gateway client: bytes in, events
// and bytes to send out. It opens no sockets, starts no goroutines and
// reads no clock, so a thread-per-shard loop, an event loop or a test can
// all drive the same Conn. gateway/shard is the driver ipcord ships.
//
// # Driving a Conn
//
// A driver repeats: Connect for the URL and upgrade request; dial and write
// the request; then feed every read to Receive, collect events from Next
// until it returns nil, write Output, and call Tick when NextDeadline
// passes:
//
//	c, _ := gateway.New(gateway.Config{Token: token, Intents: intents, Compression: gateway.CompressZstd})
//	for {
//		d, _ := c.Connect()
//		conn := dialTLS(d.URL) // the driver's business
//		conn.Write(d.Request)
//		for {
//			n, err := conn.Read(buf)   // with a deadline at c.NextDeadline()
//			c.Receive(buf[:n])
//			for {
//				ev, err := c.Next()
//				if ev == nil || err != nil { break }
//				switch ev := ev.(type) {
//				case *gateway.Hello:
//					if !ev.Resuming { waitIdentifySlot(); c.Identify() }
//				case *gateway.Dispatch:
//					handle(ev.Name, ev.Data)
//				case *gateway.Reconnect:
//					c.Close(4000, "reconnect")
//				}
//			}
//			if c.Tick(time.Now()) == gateway.TickZombie { break }
//			conn.Write(c.Output())
//		}
//	}
//
// # Protocol rules kept here
//
// The Conn keeps the session (id, sequence, resume_gateway_url) across
// connections, and answers HELLO with RESUME when it has one. Only
// INVALID_SESSION with d false and close codes 4007 and 4009 drop the
// session; 4004 and 4010–4014 mean stop (ActionFor). A RESUME goes to the
// resume URL unless Config.IgnoreResumeURL; DialFailed falls back to the
// configured URL. Closing with 1000 or 1001 ends the session on Discord's
// side, so Close forgets it then.
//
// Heartbeats: the first is due interval × jitter after HELLO, then every
// interval; a server heartbeat request is answered at once. If nothing at
// all was read since the previous heartbeat when the next is due, Tick
// reports TickZombie: drop the TCP connection and resume.
//
// # Compression
//
// zlib-stream and zstd-stream use one inflater per connection, reset by
// Connect. A stream that cannot be decoded is ErrDecompress: drop the
// connection and resume on a new one (never IDENTIFY, which would burn the
// daily identify budget). DecompressFailures counts consecutive such
// connections so a runner can stop after a few.
//
// # Cost
//
// A dispatch is read by scanning only the payload's t, s and op fields in
// Discord's key order (t, s, op, d); d is handed over raw, to be decoded
// into whatever types the bot wants. The *Dispatch and its Data are reused:
// they are valid until the next call to Next, Receive or Connect.
package gateway
