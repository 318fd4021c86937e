// Command wsecho is the baseline of ipcord's IPC benchmarks: a bare
// WebSocket echo over github.com/coder/websocket, as a server and as a load
// generator that prints the same JSON object as `ipcord bench --json`.
//
//	wsecho serve --addr 127.0.0.1:0
//	wsecho bench --url ws://127.0.0.1:PORT --n 20000 --concurrency 32 --json
//
// With --concurrency N the client keeps N messages in flight on one
// connection: the echo answers in order, so one goroutine writes (at most N
// ahead) and another reads and times each reply.
package main
