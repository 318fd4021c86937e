//go:build race

package gateway_test

// raceEnabled: the race detector's shadow memory about triples what a
// process holds, which the memory tests allow for.
const raceEnabled = true
