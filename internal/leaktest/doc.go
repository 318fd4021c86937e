// Package leaktest fails tests that leave goroutines behind.
//
// Long-lived things in ipcord (servers, clients, shards) start goroutines;
// a test of one calls Check first, so that a goroutine still running after
// the test's cleanups is reported with its stack instead of piling up
// silently across the suite.
package leaktest
