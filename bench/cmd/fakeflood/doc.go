// Command fakeflood shows that `ipcord fake` feeds one ipcord shard faster
// than the shard consumes: it starts the fake and one shard as two child
// processes, has the fake flood the shard (POST /_fake/flood) with the
// recorded session of gateway/testdata/session.jsonl (MESSAGE_CREATEs,
// TYPING_START, PRESENCE_UPDATE and three 67 KB GUILD_CREATEs) cycled, and
// reads both processes' CPU time from /proc. When the shard is the
// bottleneck, the shard's process is busy all the time (100% of a core
// when pinned to one) while the fake's is mostly idle, waiting for the
// shard to read. On a shared machine a pinned shard also waits for its CPU
// while other processes run there; "runnable" adds that wait (from
// /proc/PID/task/*/schedstat) to its CPU time: the share of the time it
// wanted to run.
//
//	cd bench && go run ./cmd/fakeflood -n 200000 -rounds 5
//
// Placements: pinned puts the shard on CPU 0 and the fake on CPU 1
// (taskset); unpinned leaves both to the scheduler. Modes and placements
// are alternated within each round, each round starting one further
// along. The shard's handler only counts events: what the shard spends is
// reading, inflating, framing, parsing the envelope, queueing and handing
// each event over.
package main
