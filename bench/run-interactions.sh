#!/bin/bash
# Alternated rounds of the interactions benchmarks: each round runs
# ipcord and disgo (in alternating order) as separate processes, pinned to
# one CPU and unpinned. BENCHMARKS.md has the figures.
#   go test -c -o /tmp/bench.test ./ && ./run-interactions.sh /tmp/bench.test 7
set -eu
bin=${1:?test binary}; rounds=${2:-7}
one() { # pin bench
	$1 "$bin" -test.run '^$' -test.bench "$2" -test.benchtime 3000x -test.count 1 | grep '^Benchmark'
}
for i in $(seq "$rounds"); do
	for pin in "taskset -c 1" "env"; do
		order="ipcord$ ipcord-StdVerifier$ disgo$"
		if (( i % 2 == 0 )); then order="disgo$ ipcord-StdVerifier$ ipcord$"; fi
		for who in $order; do
			echo "round $i ${pin% *}: $(one "$pin" "BenchmarkInteractionsPing/$who")"
		done
		for who in ipcord$ disgo$; do
			echo "round $i ${pin% *}: $(one "$pin" "BenchmarkInteractionsCommand/$who")"
		done
	done
done
