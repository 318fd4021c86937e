// Command fakeready times how long `ipcord fake` takes to get many ipcord
// shards READY: it starts the fake as a child process with --shards N and
// --max-concurrency M (one sample guild per shard), runs a shard.Manager
// sized by the fake's Get Gateway Bot, and reports the time from Run to
// the last READY, over several rounds, as a median with its range.
//
//	cd bench && go run ./cmd/fakeready -n 1000 -max-concurrency 1000 -rounds 5
//
// The ipcord binary is built from the repository first (../cmd/ipcord).
package main
