// Package ipc lets a Discord bot expose named routes that dashboards,
// clusters and tools call over WebSocket — and call routes on them in turn.
//
// A Router holds routes, independent of transport. A Server serves a Router
// to connected clients (it is an http.Handler); a Client dials a Server,
// calls its routes, and may serve routes of its own for the server to call.
// Both sides are Callers:
//
//	r := ipc.NewRouter()
//	r.Handle("stats", ipc.Func(func(ctx context.Context, _ struct{}) (Stats, error) { ... }))
//	srv := &ipc.Server{Router: r, Secret: secret}
//	go srv.ListenAndServe("127.0.0.1:8765")
//
//	c, err := ipc.Dial(ctx, ipc.ClientConfig{URL: "ws://127.0.0.1:8765", Secret: secret})
//	stats, err := ipc.CallAs[Stats](ctx, c, "stats", nil)
//
// # Guarantees
//
// Calls are multiplexed on one connection and answered in any order, so a
// slow call never holds up a fast one. Every call has a deadline (the
// context's, or CallTimeout), which travels to the handler: its context ends
// when the caller's deadline passes, when the caller cancels, or when the
// connection drops. A Client reconnects by itself with capped, jittered
// exponential backoff; while it is disconnected a call waits for the next
// connection until its own deadline. A request is never sent twice: one cut
// off by a lost connection fails with ErrConnectionLost. Client.State says
// where the connection stands; Client.Done is closed when the client is
// closed for good (by Close, or after ClientConfig.MaxReconnects failed
// attempts in a row), and Client.Err says why.
//
// Failures are typed: the remote side's errors are *Error values whose Code
// is tested with errors.Is against ErrUnknownRoute, ErrBadRequest and the
// other sentinels (a handler may return its own codes), and the transport's
// own failures are ErrNotConnected, ErrConnectionLost, ErrClosed,
// ErrUnauthorized, ErrDuplicateIdentifier and ErrVersion.
//
// # Protocol
//
// The native protocol, ipcord.v1, is JSON text messages over WebSocket with
// the subprotocol "ipcord.v1" and the secret as a bearer token on the
// upgrade request; see docs/DESIGN.md in the repository for the frames. Both
// sides ping every PingInterval and drop a peer from which nothing was read
// for PingMisses intervals, so a peer that vanished without closing fails
// its pending calls instead of hanging them. Messages larger than
// MaxMessage close the connection with 1009; malformed frames with 1007.
//
// # Python dialects
//
// The same listener also speaks the wire protocols of the Python IPC
// libraries, told apart by each connection's first message: the ext-ipc
// family (discord-ext-ipc, nextcord-ext-ipc, discord-ext-ipcx), better-ipc
// and Zonis. A route is written once and served to all of them, each error
// mapped onto the dialect's own form; a Zonis bot is a connected client
// like a native one, reached by Server.Call and Broadcast. A Client speaks
// a dialect when ClientConfig.Dialect says so, with the same Call and
// CallAs. Forwarder lets a tool reach a bot through the server both are
// connected to.
//
// # Reach
//
// A Discovery listener (the Python libraries' "multicast" port, 20000 by
// default) tells callers where the Servers of a process listen: GET
// /ipcord/servers with the bearer secret, or ext-ipc's {"connect": true}
// handshake; Discover and PickServer are the client side. Server.TLS and
// ClientConfig.TLS serve and dial wss://. Compression (permessage-deflate,
// off by default) compresses messages of at least MinSize bytes when both
// ends enable it; a decompressed message is bounded by MaxMessage like any
// other.
package ipc
