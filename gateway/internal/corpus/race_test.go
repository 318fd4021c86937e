//go:build race

package corpus_test

// Generating 12 MB of JSON takes a minute under the race detector and
// checks no concurrency (there is none), so TestShape skips then.
const raceEnabled = true
