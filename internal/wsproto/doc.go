// Package wsproto is ipcord's one RFC 6455 WebSocket implementation: frame
// encoding, frame decoding and the HTTP/1.1 upgrade handshake, for both roles.
//
// It is sans-I/O so that one framer serves every WebSocket user in the
// module: the ipc Server and Client (which coalesce many queued frames into a
// single write), the socket-free Discord gateway client, and the fake Discord
// gateway in discordtest (which must be able to cut a connection mid-frame).
// The package never writes to a connection and never starts a goroutine; the
// only I/O it does is the single Read of Decoder.ReadFrom on a reader the
// caller hands it.
//
// # Encoding
//
// AppendFrame and AppendClose append one frame to a byte slice, masking it
// when the local role is Client. Appending many frames to one slice and
// writing it once is how callers batch writes.
//
// # Decoding
//
// A Decoder takes received bytes (Feed, or ReadFrom for one Read straight
// into its buffer) and returns whole messages and control frames from Next.
// Fragmented messages are reassembled; control frames that arrive between
// fragments are returned at once. Every protocol violation is a
// *ProtocolError carrying the close code to send to the peer. The size limit
// is checked from the frame header before any payload is buffered.
//
// # Handshake
//
// A client builds its upgrade request with Request.Append and checks the
// server's reply with ParseResponse; bytes after the reply belong to the
// frame stream. A server checks the request with CheckRequest, picks a
// subprotocol from Subprotocols, takes the connection over with Hijack and
// writes the bytes of AppendResponse:
//
//	key, err := wsproto.CheckRequest(r)
//	if err != nil {
//		wsproto.Refuse(w, err)
//		return
//	}
//	sub := "" // the first of wsproto.Subprotocols(r) this server speaks
//	conn, early, err := wsproto.Accept(w, key, sub, "") // Hijack + the 101 response
//	if err != nil {
//		return
//	}
//	dec := wsproto.Decoder{Role: wsproto.Server}
//	dec.Feed(early) // the client may have sent frames with its request
//	// then loop: dec.ReadFrom(conn), dec.Next()
//
// Example_server in the tests runs this flow end to end.
//
// Because encoding only appends bytes, a test peer can cut a connection
// mid-frame by writing part of what AppendFrame returned and closing.
//
// permessage-deflate is not implemented here; Decoder.AllowRSV1 and
// Message.Compressed are the hooks a compression layer builds on.
package wsproto
