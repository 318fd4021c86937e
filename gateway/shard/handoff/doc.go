// Package handoff moves running gateway shards from one process to the
// next without losing an event, repeating one, or spending an IDENTIFY: a
// zero-downtime deploy of a Discord bot.
//
// The process running the shards serves a Source on the ipc Router of its
// ipc server (so the channel is authenticated by that server's secret). The
// new process runs a shard.Manager with no shards and calls TakeOver with
// an ipc.Caller connected to the old process. For each shard, in turn or a
// few at a time so the bot is never deaf on every shard at once:
//
//  1. release: the old process stops the shard at a dispatch boundary (its
//     handler finishes the event in hand), closes the connection with 4000
//     so Discord keeps the session, and lends the session (id, the seq of
//     the last event handled, resume URL) plus the application's state for
//     the shard to the caller under a lease token;
//  2. the successor adopts the shard: it RESUMEs from exactly that seq, so
//     Discord replays every later event, and holds the events back until
//  3. commit: the old process forgets the shard, and the successor's
//     handler starts receiving events.
//
// If the successor cannot resume, it aborts and the old process resumes
// the shard itself; if the successor dies before it commits, the lease
// times out (Source.LendTimeout) and the old process takes the shard back
// the same way: until its commit, a shard is never left orphaned, and the
// successor never handles an event before the old process has let go.
// Source.Emptied tells the old process when it holds nothing any more, so
// it can exit.
//
// The commit is where the old process's responsibility ends: it forgets
// the shard's session at once and keeps no standby. A successor that dies
// after committing a shard (say, killed right after the deploy) takes the
// shard with it, as any process that crashes does: Discord keeps the
// session resumable for a while, but no process knows its id and seq any
// more, so the next process to run the shard IDENTIFYs it, and the events
// in between are not handled. Killed mid-deploy, it leaves the shards it
// had not committed with the old process, which keeps running them; killed
// after its last commit, it leaves none, and the old process has exited.
// Where a crash must not cost an IDENTIFY, run the shards in a natsipc
// Fleet, whose members resume a dead member's shards from checkpoints.
//
// Failures are typed: ErrNotHeld, ErrStaleLease and ErrBadLease are
// *ipc.Error values that travel between the processes (test them with
// errors.Is), and ErrWrongShard is the successor's own refusal of a lease
// for a shard it did not ask for.
package handoff
