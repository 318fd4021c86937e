// Package corpus generates the gateway benchmark stream: shared by the
// gateway benchmarks and the JSON library comparison in gateway/jsonbench,
// so both measure the same bytes.
package corpus
