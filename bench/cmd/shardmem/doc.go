// Command shardmem holds many shards READY and idle against
// discordtest.Gateway and reports the Go heap, resident memory and
// goroutines each one costs, for ipcord in every transport compression and
// for its peers disgo and discordgo. Each measurement is a child process
// that runs one library's shards and nothing else; the contenders are
// alternated over several rounds in one run, and the table gives medians
// with their ranges.
//
//	cd bench && go run ./cmd/shardmem -n 1000 -rounds 5
//
// Every shard gets READY and one GUILD_CREATE of about 40 KB (so a
// zlib-stream window is full), then the shards sit idle for a few seconds
// before the measurement. disgo v0.18 and discordgo speak no transport
// compression, so they run plain JSON only; discordgo's state cache is off,
// so that all three are measured as gateway clients.
package main
