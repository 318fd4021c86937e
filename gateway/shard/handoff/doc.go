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
// the same way, and the successor never handles an event before the old
// process has let go.
//
// The commit does not end the old process's responsibility; the end of the
// takeover does. TakeOver opens a takeover (RouteBegin), renews it while
// it moves the shards (RouteRenew, every tenth of Source.HoldTimeout) and
// finishes it (RouteFinish) once every shard moved. Until the finish the
// old process keeps the session it handed over for each committed shard
// (id, seq, resume URL), and it does not exit: Source.Emptied waits for
// the finish. If the renewals stop for HoldTimeout (the successor was
// killed, hung, or lost its connection), the takeover lapses and the old
// process resumes every shard lent or committed under it from the seq it
// handed over: RESUME, never IDENTIFY. Nothing is lost; the events the
// successor had already handled are handled again, so the repeats are
// bounded by what the successor handled before it died.
//
// One rule keeps a shard from being run by both processes when the
// successor is alive but its channel is cut: a shard committed under a
// takeover is the successor's only once the old process answered the
// finish. Until then the successor keeps it only while its renewals are
// answered; when none was for half of HoldTimeout, or the old process
// refuses one, it stops those shards (closing with 4000, so the sessions
// stay resumable), never starts them again, and TakeOver fails with
// ErrHoldLost. The old process waits a full HoldTimeout after the last
// renewal it got, so the successor has let go before it resumes them; and
// were the successor late, Discord lets the newest RESUME win, and the
// successor, which no longer reconnects, ends with nothing. The one
// exception: when the old process's address refuses connections, nobody
// is left there to resume the shards (it exits only after a finish, or by
// crashing), so the successor keeps them; that covers a finish the old
// process accepted, and then exited, whose answer was lost.
//
// After the finish the shards are the successor's alone and the old
// process exits once it holds nothing. A successor that dies after its
// finish takes the shards with it, as any process that crashes does: the
// next process to run them IDENTIFYs them. Where a crash must not cost an IDENTIFY,
// run the shards in a natsipc Fleet, whose members resume a dead member's
// shards from checkpoints; a TakeOver with Options.Claim (a fleet's) opens
// no takeover, since the claim records the new owner and the fleet's
// checkpoints cover its crash.
//
// Failures are typed: ErrNotHeld, ErrStaleLease and ErrBadLease are
// *ipc.Error values that travel between the processes (test them with
// errors.Is), ErrWrongShard is the successor's own refusal of a lease for
// a shard it did not ask for, and ErrHoldLost says the successor gave its
// shards back.
package handoff
