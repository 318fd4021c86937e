// Package spread reduces the rounds of a measurement to the figure
// BENCHMARKS.md quotes: the median with its range, never one draw. The
// bench commands share it so that every figure is reduced the same way
// (an even number of rounds takes the mean of the middle two).
package spread
