// Package bench holds comparative benchmarks of ipcord against its peers.
// It is its own module so that peers' code (and coder/websocket's echo,
// the baseline of the IPC figures) never enters ipcord's dependencies.
//
// The headline IPC comparison is two processes each way, alternated in one
// run by run-ipc.sh; BENCHMARKS.md at the repository root has the figures.
package bench
