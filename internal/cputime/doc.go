// Package cputime reads the CPU time the process has used, for the
// benchmarks that report throughput over CPU time beside the wall clock:
// on a machine shared with other jobs, the wall clock measures the
// neighbours as much as the code.
package cputime
