// Package natsipc serves ipc routes over NATS, so a bot of many clusters on
// many machines keeps the routes and the API of package ipc: a route
// written once for an ipc.Router serves WebSocket clients and NATS callers
// alike.
//
// It is part of the root module: nats.go, the one dependency it adds, is
// small, and a program that never imports natsipc never links it; the NATS
// server (github.com/nats-io/nats-server) serves only its tests.
//
// A Node joins a NATS connection. With a Router it serves as a named
// cluster; every Node can call:
//
//	nc, _ := nats.Connect(url, nats.MaxReconnects(-1))
//	node, err := natsipc.New(nc, natsipc.Config{Cluster: "c0", Router: r})
//
//	n, err := ipc.CallAs[int](ctx, node, "guild_count", nil)           // any instance of the route
//	n, err = ipc.CallAs[int](ctx, node.Cluster("c3"), "guild_count", nil) // one named cluster
//	node.Discover(ctx, 0)                                               // learn the members once
//	results, err := node.Broadcast(ctx, "guild_count", nil)             // every cluster
//
// # Guarantees
//
// Calls have deadlines that travel with the request: the handler's context
// ends with the caller's deadline. A route or cluster nobody serves fails
// at once (NATS's "no responders"), never at the deadline. A call to any
// instance is not lost to a restart: an instance that is shutting down
// refuses it before its handler runs, and the call goes to another. Broadcast
// returns as soon as every member has answered, and reports a member that
// died meanwhile as missing instead of waiting for it. Membership uses
// plain NATS (heartbeats on <prefix>.presence), not JetStream; a node that
// has just joined calls Discover before its first Broadcast.
//
// Errors are package ipc's: *ipc.Error codes from the remote side
// (ipc.ErrUnknownRoute, a handler's own code, ...), ipc.ErrTimeout and
// ipc.ErrCanceled (which also match the context's errors), and for the
// connection ipc.ErrNotConnected (the deadline passed while NATS was
// reconnecting; the request was never sent), ipc.ErrConnectionLost (the
// connection dropped after the request was sent; it may or may not have
// run) and ipc.ErrClosed. Reconnecting is the NATS client's job: pass
// nats.MaxReconnects(-1) (Connect does). Authentication and TLS are NATS's
// own: configure them with nats.Option values.
//
// # Handlers
//
// Handlers run exactly as ipc's own transports run them, so hooks, panics,
// result encoding, metadata set with ipc.WithMeta and ipc.RequestFrom
// behave as over WebSocket. A caller that gives up (its context canceled, or Close)
// publishes a cancel on <prefix>.cancel and the serving nodes cancel the
// handler's context, as a cancel frame does over WebSocket; anyone who can
// publish on the account can send one, as anyone can send a request.
//
// A serving node runs the handlers of fast routes on the goroutine that
// receives its requests, the way a bare nats.go responder does, and each
// call of a route whose handlers take longer (20 µs on average) on a
// goroutine of its own, so slow handlers run in parallel. A handler that
// blocks unexpectedly holds up the requests behind it for about half a
// millisecond, after which another goroutine takes over receiving.
//
// # Identify coordination
//
// IdentifyLimiter is gateway/shard's IdentifyLimiter on JetStream
// key-value, so the shard Managers of one bot on many machines share
// Discord's identify buckets. Given REST (LimiterConfig.REST) it also keeps
// the daily session start budget for all of them and refuses, with a
// *shard.IdentifyBudgetError, an IDENTIFY that would spend it below
// LimiterConfig.Reserve. The identify limiter, the Fleet and KVMarks are
// the parts of the package that need JetStream.
//
// # Fleet
//
// Fleet spreads one bot's shards over the processes of a fleet: leases in
// JetStream key-value, checkpoints of each shard's session (at most every
// 250 ms or 100 events), balance by handoff (package
// gateway/shard/handoff, over NATS), so that a member joining or leaving
// gracefully loses, repeats and re-identifies nothing, and a member
// killed outright leaves its leases to expire and its shards to be
// resumed from their checkpoints by the others (repeats bounded by the
// checkpoint). Every event carries its shard, session and seq; with
// FleetConfig.Marks (dedupe) the others resume after the last event the
// dead member's handler marked instead: no repeat when the bot keeps that
// mark with its effects (Marks), at most one per shard with KVMarks.
//
// # Command line
//
// `ipcord serve --nats URL --cluster NAME` serves the diagnostic routes as
// a cluster, and `ipcord call --nats URL [--cluster NAME | --all] ROUTE
// k=v...` calls them on any instance, one cluster, or all of them.
//
// # Subjects
//
// Under the prefix (default "ipcord"): any.<route> (one queue-group
// subscription per route), cluster.<cluster>.<route>, all.<route>,
// presence and presence.ping. The message body is a short text envelope
// around the JSON (see envelope.go).
package natsipc
