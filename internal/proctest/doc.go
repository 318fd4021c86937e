// Package proctest runs programs as processes of their own in tests.
//
// The end-to-end tests (e2e, e2e/clients) and the benchmarks' peer tests
// (bench) run ipcord, nats-server and other libraries' bots as a user
// would: a binary started as a separate process, its output read line by
// line, and stopped by PID when the test ends. This package is that
// harness, once, for every module of the repository (they import it
// through their replace directive).
//
// A process runs in a process group of its own, so that stopping it
// reaches whatever it started; a test stops only what it started, never
// processes found by name.
package proctest
