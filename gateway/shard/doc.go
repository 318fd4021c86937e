// Package shard runs Discord gateway shards over real connections: the one
// loop that drives a sans-I/O gateway.Conn, and a Manager for many shards.
//
// A Shard dials (TLS for wss), heartbeats on the Conn's deadlines, drops a
// connection on which nothing at all was read for a heartbeat interval,
// and resumes it on resume_gateway_url (falling back to the configured URL
// when that fails). It identifies again only when the session is gone
// (INVALID_SESSION d:false, close 4007 or 4009) and stops with a
// *CloseError on the codes a retry cannot fix (4004, 4010–4014). It never
// closes with 1000 or 1001 unless asked to end the session, backs off
// exponentially with jitter between failed attempts, and gives up after
// three consecutive undecodable compressed streams.
//
// Reconnects are paced so that no network can make a storm of them: a
// connection that drops within a minute of dialing counts as failed even
// if READY came (the next attempt waits at least a second, then longer
// each time), and a ConnectLimit shared by a process's shards caps their
// dials (by default 120 a minute, after a burst as large as the Manager's
// shard count).
//
// Events go to a Handler on a goroutine of their own through a bounded
// queue. The reader never waits for the handler: while the queue is full
// it stops reading the socket, and since liveness is judged when the
// socket is read, the zombie verdict is withheld meanwhile (heartbeats go
// on). A slow handler therefore never causes a reconnect.
//
// Sends keep Discord's limit of 120 payloads per 60 s per connection with
// room for heartbeats, and refuse payloads over 4096 bytes with a typed
// error. RequestMembers gathers GUILD_MEMBERS_CHUNK events by nonce.
//
// A running shard can move to another process without losing or
// repeating an event: Shard.HandOff (and Manager.HandOff) stops it at a
// dispatch boundary and exports the session at the last event handled,
// and Manager.Adopt resumes it there, holding events back until the
// previous owner has let go. Package handoff runs that exchange over ipc.
//
// IDENTIFY slots come from an IdentifyLimiter (bucket shard_id %
// max_concurrency, 5 s apart, after the previous READY or failure, within
// the daily budget); LocalLimiter is the in-memory one.
//
// Every timing decision (heartbeats, the HELLO and READY timeouts, backoff,
// the send window, identify intervals, latency) reads Config.Clock, the
// system clock when nil, so tests can run a 41.25 s heartbeat interval or
// a 30 s READY timeout on a clock they move by hand. Socket I/O deadlines
// stay on the wall clock.
package shard
