// Command ipccompare is the headline IPC benchmark: `ipcord bench` against
// `ipcord serve` beside a bare coder/websocket echo (wsecho), each as two
// processes on loopback, alternated for several rounds in one run so all
// contenders see the same machine. It prints Markdown tables of medians with
// their ranges, the ratios to the echo taken round by round, and what the
// server process spent per call: CPU time and context switches (read from
// /proc around the client's run).
//
//	cd bench && go run ./cmd/ipccompare -rounds 5 -n 20000
//
// Thread placement moves these figures, so each round measures every
// placement asked for with -placement: unpinned; same (both processes on
// CPU 0, via taskset); split (server on CPU 0, client on CPU 1). -base REF
// adds ipcord built at a git revision as a third contender, for before and
// after figures from one run.
package main
